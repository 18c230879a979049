// The supervisor through its API: real children, real signals, typed events.
import test from 'ava';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitMessage } from '../src/log-words.js';
import { supervise, type ExitEvent, type SignalName, type SpawnEvent } from '../src/index.js';
import { alive } from './helpers/keepalive.js';

test('exit codes 0-255 pass through unchanged with restart never', async (t) => {
  const codes = Array.from({ length: 256 }, (_, code) => code);
  const results = await Promise.all(
    codes.map(
      (code) => supervise({ command: 'sh', args: ['-c', `exit ${code}`], restart: 'never' }).done,
    ),
  );
  t.deepEqual(
    results.map((result) => result.status),
    codes,
  );
  t.true(
    results.every(
      (result, code) =>
        result.reason === 'no-restart' &&
        result.outcome.kind === 'exited' &&
        result.outcome.code === code,
    ),
  );
});

const fromOutside: Array<[SignalName, 'killed' | 'crashed', number, string]> = [
  ['SIGKILL', 'killed', 137, 'Forced termination'],
  ['SIGTERM', 'killed', 143, 'Termination'],
  ['SIGUSR1', 'killed', 138, 'Application-specific signal'],
  ['SIGUSR2', 'killed', 140, 'Application-specific signal'],
  ['SIGSEGV', 'crashed', 139, 'Segmentation fault'],
  ['SIGABRT', 'crashed', 134, 'Aborted'],
  ['SIGQUIT', 'crashed', 131, 'User interruption with CTRL-\\'],
  ['SIGBUS', 'crashed', 135, 'Bus error due to misaligned, non-existing address or paging error'],
  ['SIGHUP', 'killed', 129, 'Terminal closed'],
  ['SIGINT', 'killed', 130, 'User interruption with CTRL-C'],
];
for (const [signal, kind, status, description] of fromOutside) {
  test(`${signal} from outside: ${kind}, status ${status}, said in words, restarted`, async (t) => {
    const supervisor = supervise(
      { command: 'sleep', args: ['1000'], delay: 0 },
      { coreDumps: 'disabled' },
    );
    const [first] = (await once(supervisor, 'spawn')) as [SpawnEvent];
    process.kill(first.pid, signal);
    const [exit] = (await once(supervisor, 'exit')) as [ExitEvent];
    const [second] = (await once(supervisor, 'spawn')) as [SpawnEvent];
    supervisor.stop();
    await supervisor.done;

    t.is(exit.outcome.kind, kind);
    t.is(exit.status, status);
    t.like(exit.next, { action: 'restart', restart: 1, planned: false });
    t.true(
      exitMessage(exit).startsWith(
        `sleep[${first.pid}] ${kind}: ${signal} (${description}), status ${status}`,
      ),
      exitMessage(exit),
    );
    t.is(second.restarts, 1);
    t.not(second.pid, first.pid);
  });
}

test('events: spawn, exit with the decision, stop, end; done resolves with the status', async (t) => {
  const supervisor = supervise({ command: 'sleep', args: ['1000'] });
  const seen: string[] = [];
  for (const name of ['spawn', 'exit', 'stop', 'escalate', 'end'] as const)
    supervisor.on(name, () => seen.push(name));
  const [spawned] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  supervisor.stop();
  const result = await supervisor.done;
  t.deepEqual(seen, ['spawn', 'stop', 'exit', 'end']);
  t.deepEqual(result, {
    status: 143,
    reason: 'stopped',
    outcome: { kind: 'killed', signal: 'SIGTERM' },
  });
  t.false(alive(spawned.pid));
});

test('restart() replaces the child at once without counting a failure', async (t) => {
  const supervisor = supervise({ command: 'sleep', args: ['1000'], maxRestarts: 0 });
  const [first] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  supervisor.restart();
  const [exit] = (await once(supervisor, 'exit')) as [ExitEvent];
  const [second] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  supervisor.stop();
  await supervisor.done;
  t.like(exit.next, { action: 'restart', restart: 1, planned: true, delayMs: 0 });
  t.is(second.restarts, 1);
  t.not(second.pid, first.pid);
});

test("restart() from a 'spawn' listener restarts the child it was told of", async (t) => {
  const supervisor = supervise({ command: 'sleep', args: ['1000'], maxRestarts: 0 });
  t.teardown(() => supervisor.stop('SIGKILL'));
  const restartFirst = (event: SpawnEvent): void => {
    if (event.restarts === 0) supervisor.restart();
  };
  supervisor.on('spawn', restartFirst);
  const [first] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  // A lost restart fails here, well before ava's timeout, so that the teardown ends the child.
  const lost = AbortSignal.timeout(20_000);
  const [exit] = (await once(supervisor, 'exit', { signal: lost })) as [ExitEvent];
  supervisor.stop();
  await supervisor.done;
  t.is(exit.pid, first.pid);
  t.like(exit.next, { action: 'restart', restart: 1, planned: true });
});

test("a stop signal received while a restart stops the child is the child's too", async (t) => {
  // The shell ignores the restart's SIGTERM and leaves on SIGPWR, the signal keepalive receives.
  const script = 'trap "" TERM; trap "exit 7" PWR; while :; do sleep 0.05; done';
  const supervisor = supervise({ command: 'sh', args: ['-c', script], killTimeout: 5_000 });
  t.teardown(() => supervisor.stop('SIGKILL'));
  await once(supervisor, 'spawn');
  supervisor.restart();
  supervisor.stop('SIGPWR', true);
  const [exit] = (await once(supervisor, 'exit')) as [ExitEvent];
  t.deepEqual(exit.outcome, { kind: 'exited', code: 7 });
  t.like(await supervisor.done, { status: 7, reason: 'stopped' });
});

test('a stop during the backoff delay ends at once with the last status', async (t) => {
  const supervisor = supervise({ command: 'sh', args: ['-c', 'exit 5'], delay: 60_000 });
  await once(supervisor, 'exit');
  supervisor.stop();
  t.deepEqual(await supervisor.done, {
    status: 5,
    reason: 'stopped',
    outcome: { kind: 'exited', code: 5 },
  });
});

test('what the child leaves in its process group is stopped with it', async (t) => {
  // The shell starts a background sleep and exits: the sleep stays in the group.
  const supervisor = supervise({
    command: 'sh',
    args: ['-c', 'sleep 1000 & exit 0'],
    restart: 'never',
  });
  const [spawned] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  await supervisor.done;
  t.throws(() => process.kill(-spawned.pid, 0), { code: 'ESRCH' });
});

test('the API opens no notify socket unless asked (notifyAccess: all): the poll would hold a thread of the embedding program', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-api-notify-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const show = (file: string): string[] => [
    '-c',
    `echo "\${NOTIFY_SOCKET-unset} \${KEEPALIVE_NOTIFY_FD-unset}" > ${join(directory, file)}`,
  ];
  await supervise({ command: 'sh', args: show('plain'), restart: 'never' }).done;
  await supervise({ command: 'sh', args: show('all'), restart: 'never', notifyAccess: 'all' }).done;
  t.is(readFileSync(join(directory, 'plain'), 'utf8'), 'unset 3\n');
  t.regex(
    readFileSync(join(directory, 'all'), 'utf8'),
    /^@keepalive\/\d+\/[0-9a-z]+-[0-9a-z]+-[0-9a-z]+ 3\n$/,
  );
});
