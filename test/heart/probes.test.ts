// Health checks against real probes: a local HTTP server and shell commands that start failing.
import test from 'ava';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  supervise,
  type ExitEvent,
  type HealthEvent,
  type SpawnEvent,
  type UnhealthyEvent,
} from '../../src/index.js';
import { runKeepalive } from '../helpers/keepalive.js';

/** A server whose answer the test decides: a status code, or no answer at all. */
async function healthServer(): Promise<{
  server: Server;
  url: string;
  answer: { status: number | 'none' };
}> {
  const answer: { status: number | 'none' } = { status: 200 };
  const server = createServer((_request, response) => {
    if (answer.status === 'none') return;
    response.statusCode = answer.status;
    response.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`,
    answer,
  };
}

function collect<T>(
  emitter: { on(event: string, listener: (value: T) => void): unknown },
  event: string,
): T[] {
  const seen: T[] = [];
  emitter.on(event, (value: T) => seen.push(value));
  return seen;
}

test('--health-url: a server that starts answering 503 makes the child unhealthy: stop signal, restart', async (t) => {
  const { server, url, answer } = await healthServer();
  const supervisor = supervise({
    command: 'sleep',
    args: ['1000'],
    healthUrl: url,
    healthInterval: 100,
    healthRetries: 2,
    delay: 0,
  });
  const checks = collect<HealthEvent>(supervisor, 'health');
  const [first] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  while (checks.filter((check) => check.passed).length < 2) await once(supervisor, 'health');
  answer.status = 503;
  const [unhealthy] = (await once(supervisor, 'unhealthy')) as [UnhealthyEvent];
  const [exit] = (await once(supervisor, 'exit')) as [ExitEvent];
  const [second] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  supervisor.stop();
  await supervisor.done;
  server.close();

  t.like(unhealthy, { pid: first.pid, failures: 2, detail: 'HTTP 503', signal: 'SIGTERM' });
  t.deepEqual(
    checks
      .filter((check) => !check.passed)
      .map((check) => [check.verdict, check.failures, check.detail]),
    [
      ['failing', 1, 'HTTP 503'],
      ['unhealthy', 2, 'HTTP 503'],
    ],
  );
  t.deepEqual(exit.outcome, { kind: 'unhealthy', signal: 'SIGTERM', sent: 'SIGTERM', failures: 2 });
  t.is(exit.status, 143);
  t.like(exit.next, { action: 'restart', restart: 1 });
  t.is(second.restarts, 1);
});

test('--health-url: no answer within --health-timeout is a failure', async (t) => {
  const { server, url, answer } = await healthServer();
  answer.status = 'none';
  const supervisor = supervise({
    command: 'sleep',
    args: ['1000'],
    healthUrl: url,
    healthInterval: 50,
    healthTimeout: 200,
    healthRetries: 1,
    restart: 'never',
  });
  const [unhealthy] = (await once(supervisor, 'unhealthy')) as [UnhealthyEvent];
  const result = await supervisor.done;
  server.closeAllConnections();
  server.close();
  t.is(unhealthy.detail, 'no answer within 200ms');
  t.is(result.status, 143);
});

test('--health-url: a refused connection is a failure, said as such', async (t) => {
  const { server, url } = await healthServer();
  server.close();
  await once(server, 'close');
  const supervisor = supervise({
    command: 'sleep',
    args: ['1000'],
    healthUrl: url,
    healthInterval: 50,
    healthRetries: 1,
    restart: 'never',
  });
  const [unhealthy] = (await once(supervisor, 'unhealthy')) as [UnhealthyEvent];
  await supervisor.done;
  t.is(unhealthy.detail, 'ECONNREFUSED');
});

test('--health-cmd: a command that starts failing makes the child unhealthy', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-health-'));
  const flag = join(directory, 'healthy');
  writeFileSync(flag, '');
  const supervisor = supervise({
    command: 'sleep',
    args: ['1000'],
    healthCmd: `test -e '${flag}'`,
    healthInterval: 100,
    healthRetries: 3,
    restart: 'never',
  });
  const checks = collect<HealthEvent>(supervisor, 'health');
  while (checks.filter((check) => check.passed).length < 2) await once(supervisor, 'health');
  rmSync(flag);
  const [unhealthy] = (await once(supervisor, 'unhealthy')) as [UnhealthyEvent];
  const result = await supervisor.done;
  rmSync(directory, { recursive: true });

  t.like(unhealthy, { failures: 3, detail: 'exited with code 1' });
  t.deepEqual(result.outcome, {
    kind: 'unhealthy',
    signal: 'SIGTERM',
    sent: 'SIGTERM',
    failures: 3,
  });
  t.is(result.status, 143);
});

test('--health-cmd: a probe that takes too long is killed and counts as a failure', async (t) => {
  const supervisor = supervise({
    command: 'sleep',
    args: ['1000'],
    healthCmd: 'sleep 30',
    healthInterval: 50,
    healthTimeout: 300,
    healthRetries: 1,
    restart: 'never',
  });
  const [unhealthy] = (await once(supervisor, 'unhealthy')) as [UnhealthyEvent];
  await supervisor.done;
  t.is(unhealthy.detail, 'no answer within 300ms');
});

test('--health-start-period: early failures are not counted', async (t) => {
  const supervisor = supervise({
    command: 'sleep',
    args: ['1000'],
    healthCmd: 'exit 3',
    healthInterval: 100,
    healthRetries: 2,
    healthStartPeriod: 700,
    restart: 'never',
  });
  const checks = collect<HealthEvent>(supervisor, 'health');
  const [spawned] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  const start = performance.now();
  await once(supervisor, 'unhealthy');
  const after = performance.now() - start;
  await supervisor.done;
  t.true(checks.length >= 3, `${checks.length} probes`);
  t.is(checks[0]?.verdict, 'starting');
  t.deepEqual(
    checks.slice(-2).map((check) => check.verdict),
    ['failing', 'unhealthy'],
  );
  t.true(after >= 700, `unhealthy ${Math.round(after)}ms after the start`);
  t.is(checks[0]?.detail, 'exited with code 3');
  t.true(spawned.pid > 0);
});

test('from the command line: an unhealthy child is said in words, stopped with --stop-signal', async (t) => {
  const result = await runKeepalive([
    '--health-cmd',
    'exit 1',
    '--health-interval',
    '100ms',
    '--health-retries',
    '2',
    '--stop-signal',
    'SIGINT',
    '--restart',
    'never',
    '--',
    'sleep',
    '1000',
  ]);
  t.is(result.status, 130);
  t.regex(
    result.stderr,
    /sleep\[\d+\] unhealthy: health check failed 2 times in a row \(exited with code 1\); sending SIGINT\n/,
  );
  t.regex(
    result.lines.at(-1) ?? '',
    /sleep\[\d+\] unhealthy: health check failed 2 times in a row, killed with SIGINT \(User interruption with CTRL-C\), status 130; not restarting/,
  );
});
