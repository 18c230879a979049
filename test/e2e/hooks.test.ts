// --on-exit CMD: every exit is told to a hook, with the outcome in its environment; hooks run one
// at a time beside the loop (never holding up a restart), the last one is waited for at the end, a
// failing one changes nothing, and nothing of a hook outlives keepalive.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { supervise } from '../../src/index.js';
import type { HookCall } from '../../src/core/hook-env.js';
import { Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { eventually, isKeepalive, killMarked, running, uniqueMarker } from '../helpers/proc.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

function scratch(t: ExecutionContext): string {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-hooks-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** A hook that writes its KEEPALIVE_* variables as JSON to DIR/<its pid>.json. */
const dumpHook = (directory: string): string =>
  `node -e 'const e = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("KEEPALIVE_"))); require("fs").writeFileSync(process.argv[1] + "/" + process.ppid + ".json", JSON.stringify(e))' ${directory}`;

const dumps = (directory: string): Array<Record<string, string>> =>
  readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .map(
      (file) => JSON.parse(readFileSync(join(directory, file), 'utf8')) as Record<string, string>,
    );

/**
 * Live processes with the marker anywhere in their command line, keepalive (whose flags hold it)
 * aside.
 */
const withMarker = (marker: string): Array<{ pid: number; sid: number }> =>
  running().filter((p) => p.argv.some((word) => word.includes(marker)) && !isKeepalive(p.argv));
/** Hooks that run: each leads a session of its own (a shell's fork before its exec does not). */
const hooksRunning = (marker: string): number =>
  withMarker(marker).filter((p) => p.sid === p.pid).length;

const outcomes: Array<[string, string[], string[], Record<string, string>]> = [
  ['exited', [], ['sh', '-c', 'exit 3'], { KEEPALIVE_STATUS: '3', KEEPALIVE_EXIT_CODE: '3' }],
  [
    'killed',
    [],
    ['sh', '-c', 'kill -TERM $$'],
    { KEEPALIVE_STATUS: '143', KEEPALIVE_SIGNAL: 'SIGTERM' },
  ],
  [
    'crashed',
    [],
    ['sh', '-c', 'ulimit -c 0; kill -SEGV $$'],
    { KEEPALIVE_STATUS: '139', KEEPALIVE_SIGNAL: 'SIGSEGV' },
  ],
  [
    'hung',
    ['--heartbeat', '300ms'],
    ['sleep', '30'],
    { KEEPALIVE_STATUS: '137', KEEPALIVE_SIGNAL: 'SIGKILL' },
  ],
  [
    'unhealthy',
    ['--health-cmd', 'false', '--health-interval', '100ms', '--health-retries', '1'],
    ['sleep', '30'],
    { KEEPALIVE_STATUS: '143', KEEPALIVE_SIGNAL: 'SIGTERM' },
  ],
  [
    'over-memory',
    ['--max-memory', '60MB', '--memory-interval', '100ms'],
    ['node', '-e', 'const kept = []; setInterval(() => kept.push(Buffer.alloc(10e6, 1)), 50)'],
    { KEEPALIVE_STATUS: '143', KEEPALIVE_SIGNAL: 'SIGTERM' },
  ],
];
for (const [kind, flags, command, expected] of outcomes) {
  test(`the hook is told a${kind === 'exited' || kind === 'over-memory' ? 'n' : ''} ${kind} exit, and keepalive waits for it before it ends`, async (t) => {
    const directory = scratch(t);
    const result = await runKeepalive([
      '--restart',
      'never',
      '--log-format',
      'json',
      '--on-exit',
      dumpHook(directory),
      ...flags,
      '--',
      ...command,
    ]);
    const exit = result.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line['event'] === 'exit');
    const [env, ...more] = dumps(directory);
    t.is(more.length, 0);
    t.like(
      env,
      {
        KEEPALIVE_OUTCOME: kind,
        KEEPALIVE_NEXT: 'end',
        KEEPALIVE_RESTARTS: '0',
        KEEPALIVE_MISSED: '0',
        ...expected,
      },
      result.stderr,
    );
    t.is(env?.['KEEPALIVE_MESSAGE'], String(exit?.['message']));
    t.is(env?.['KEEPALIVE_CHILD_PID'], String(exit?.['pid']));
    t.is(env?.['KEEPALIVE_NAME'], String(exit?.['name']));
    // The record as the JSON log printed it: the same fields, the same words.
    t.deepEqual(
      { ...JSON.parse(env?.['KEEPALIVE_EVENT'] ?? '{}'), time: null },
      { ...exit, time: null },
    );
    t.is(result.status, Number(expected['KEEPALIVE_STATUS']));
  });
}

test('a command that cannot start is told as not-started, with its status and no pid', async (t) => {
  const directory = scratch(t);
  const result = await runKeepalive([
    '--on-exit',
    dumpHook(directory),
    '--',
    'no-such-command-here',
  ]);
  t.is(result.status, 127);
  t.like(dumps(directory)[0], {
    KEEPALIVE_OUTCOME: 'not-started',
    KEEPALIVE_STATUS: '127',
    KEEPALIVE_CHILD_PID: '',
    KEEPALIVE_NEXT: 'end',
  });
});

test('a slow hook in a --delay 0 crash loop: restarts go on, one hook at a time, the missed are counted, none is left after stop', async (t) => {
  const marker = uniqueMarker();
  const directory = scratch(t);
  t.teardown(() => killMarked(marker));
  const hook = `sleep 0.8; echo "$KEEPALIVE_MISSED" >> ${directory}/missed; : ${marker}`;
  const keepalive = new Keepalive([
    '-v',
    '--delay',
    '0',
    '--on-exit',
    hook,
    '--',
    'sh',
    '-c',
    'sleep 0.02; exit 1',
  ]);
  t.teardown(() => keepalive.process.kill('SIGKILL'));
  let most = 0;
  const sampler = setInterval(() => (most = Math.max(most, hooksRunning(marker))), 5);
  const starts = (): number => keepalive.stderr.all.filter((line) => / started/.test(line)).length;
  const hooksDone = (): number =>
    readFileSync(`${directory}/missed`, { encoding: 'utf8', flag: 'a+' }).split('\n').length - 1;
  // A loop that waited for its hooks would start the child once per 0.8 s hook; one that does not
  // starts a child living 20 ms many times per hook, however loaded the machine.
  await eventually('12 starts', () => starts() >= 12 || undefined);
  const [started, done] = [starts(), hooksDone()];
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  clearInterval(sampler);
  t.true(ended.status === 1 || ended.status === 143, String(ended.status));
  t.true(
    done <= started / 2,
    `${done} hooks done by ${started} starts: the loop waited for the hooks`,
  );
  t.is(most, 1, 'never two hooks at once');
  const missed = readFileSync(`${directory}/missed`, 'utf8').trim().split('\n').map(Number);
  t.true(
    missed.some((count) => count > 0),
    missed.join(','),
  );
  t.deepEqual(withMarker(marker), [], 'no hook left after the stop');
  // A hook is no part of the child's tree: no sweep ever names one.
  const hookPids = [...keepalive.stderr.text.matchAll(/on-exit hook sh\[(\d+)\]/g)].map(
    (match) => match[1],
  );
  t.true(hookPids.length > 0, keepalive.stderr.text);
  const sweeps = keepalive.stderr.all.filter((line) => / left \d+ process/.test(line));
  t.false(
    sweeps.some((line) => hookPids.some((pid) => line.includes(`[${pid}]`))),
    sweeps.join('\n'),
  );
});

test('at give-up keepalive waits for the last hook: the notice is never lost', async (t) => {
  const directory = scratch(t);
  const hook = `sleep 0.5; echo "$KEEPALIVE_NEXT $KEEPALIVE_MESSAGE" > ${directory}/told`;
  const result = await runKeepalive([
    '--delay',
    '0',
    '--max-restarts',
    '2',
    '--on-exit',
    hook,
    '--',
    'sh',
    '-c',
    'exit 4',
  ]);
  t.is(result.status, 4);
  t.regex(
    readFileSync(`${directory}/told`, 'utf8'),
    /^give-up sh\[\d+\] exited with code 4; giving up: 3 failures in 1m$/m,
  );
});

test("a hook that fails or hangs is logged, killed with its group, and never changes keepalive's status", async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const failed = await runKeepalive([
    '--restart',
    'never',
    '--on-exit',
    'exit 7',
    '--',
    'sh',
    '-c',
    'exit 3',
  ]);
  t.is(failed.status, 3);
  t.regex(
    failed.stderr,
    /on-exit hook sh\[\d+\] failed: exited with code 7 after \d+ms; keepalive goes on as before/,
  );
  const started = performance.now();
  const hung = await runKeepalive([
    '--restart',
    'never',
    '--on-exit-timeout',
    '300ms',
    '--on-exit',
    `sleep ${marker} & sleep ${marker}`,
    '--',
    'true',
  ]);
  t.is(hung.status, 0);
  // The hook would sleep for years: it was cut off at the timeout, whatever the machine's load.
  t.true(performance.now() - started < 20_000);
  t.regex(
    hung.stderr,
    /on-exit hook sh\[\d+\] still running after 300ms: killed with its process group \(--on-exit-timeout\)/,
  );
  t.deepEqual(withMarker(marker), [], 'the hook and what it started in the background are gone');
});

test('--on-exit-timeout needs --on-exit, and says so', async (t) => {
  const result = await runKeepalive(['--on-exit-timeout', '1s', '--', 'true']);
  t.is(result.status, 2);
  t.regex(result.stderr, /--on-exit-timeout needs --on-exit/);
});

test('the API: onExit is a function, awaited one at a time, told the same facts', async (t) => {
  const calls: Array<HookCall & { env: Readonly<Record<string, string>> }> = [];
  let inside = 0;
  let most = 0;
  const supervisor = supervise({
    command: 'sh',
    args: ['-c', 'exit 5'],
    delay: 0,
    maxRestarts: 3,
    onExit: async (call) => {
      most = Math.max(most, ++inside);
      await new Promise((resolve) => setTimeout(resolve, 100));
      calls.push(call);
      inside--;
    },
  });
  const result = await supervisor.done;
  t.is(result.status, 5);
  t.is(most, 1);
  const last = calls.at(-1);
  t.is(last?.event.next.action, 'give-up', 'the last call is the give-up, awaited before done');
  t.is(last?.env['KEEPALIVE_OUTCOME'], 'exited');
  t.is(
    calls.reduce((sum, call) => sum + 1 + call.missed, 0),
    4,
    'every exit is told or counted as missed',
  );
});

test('examples/on-exit-webhook.sh posts the outcome to a webhook', async (t) => {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      response.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const { port } = server.address() as { port: number };
  const result = await runKeepalive(
    [
      '--restart',
      'never',
      '--on-exit',
      `${EXAMPLES}on-exit-webhook.sh`,
      '--',
      'sh',
      '-c',
      'exit 9',
    ],
    {
      env: { WEBHOOK_URL: `http://127.0.0.1:${port}/hook` },
    },
  );
  t.is(result.status, 9, result.stderr);
  t.is(bodies.length, 1, result.stderr);
  const posted = JSON.parse(bodies[0] ?? '{}') as {
    text: string;
    event: { outcome: { kind: string; code: number } };
  };
  t.regex(posted.text, /sh\[\d+\] exited with code 9; not restarting \(--restart never\)$/);
  t.deepEqual(posted.event.outcome, { kind: 'exited', code: 9 });
});

test("what a hook starts in another session is not the child's and does not outlive keepalive", async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const alive = (): number[] =>
    running()
      .filter((process_) => process_.argv.includes(marker))
      .map((process_) => process_.pid);
  const result = await runKeepalive([
    '--delay',
    '0',
    '--max-restarts',
    '1',
    '--on-exit',
    `setsid sleep ${marker} & sleep 0.3`,
    '--',
    'sh',
    '-c',
    'sleep 0.5; exit 3',
  ]);
  t.is(result.status, 3);
  // Never named as something the child left behind, and gone once keepalive is.
  t.notRegex(result.stderr, /left \d+ process(es)? behind/);
  t.deepEqual(alive(), []);
});

test('what a health probe starts in another session ends with the probe', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const keepalive = new Keepalive([
    '--health-cmd',
    `setsid sleep ${marker} & exit 0`,
    '--health-interval',
    '200ms',
    '--',
    'sleep',
    '30',
  ]);
  await keepalive.childPid();
  // The scenario itself: several probes in a row, each leaving a `setsid` job behind.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const left = running().filter((process_) => process_.argv.includes(marker)).length;
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.true(left <= 1, `${left} probe sleeps running at once`);
  t.deepEqual(
    running().filter((process_) => process_.argv.includes(marker)),
    [],
  );
});

test('a hook still running when keepalive is SIGKILLed is stopped by the next keepalive on the same --pidfile', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const pidfile = join(scratch(t), 'app.pid');
  // At give-up keepalive waits for the hook: it is SIGKILLed in that wait, the hook left running.
  const killed = new Keepalive([
    '--pidfile',
    pidfile,
    '--restart',
    'never',
    '--on-exit',
    `sleep ${marker}`,
    '--on-exit-timeout',
    '1h',
    '--',
    'sh',
    '-c',
    'exit 3',
  ]);
  t.teardown(() => killed.signal('SIGKILL'));
  await eventually('the hook', () => hooksRunning(marker) === 1);
  killed.signal('SIGKILL');
  await once(killed.process, 'exit'); // not 'close': the hook still holds keepalive's stderr
  t.is(hooksRunning(marker), 1, 'the hook outlived its keepalive');
  const other = uniqueMarker();
  t.teardown(() => killMarked(other));
  const next = new Keepalive(['--pidfile', pidfile, '--kill-timeout', '2s', '--', 'sleep', other]);
  t.teardown(() => next.signal('SIGKILL'));
  await next.childPid();
  t.deepEqual(withMarker(marker), [], 'the old hook is gone before the new child starts');
  t.regex(next.stderr.text, /taking over/);
  next.signal('SIGTERM');
  t.is((await next.ended).status, 143);
});
