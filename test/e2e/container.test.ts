// keepalive as PID 1 of a real container: podman + runc over a root filesystem assembled from this
// machine's node, sh and coreutils (test/helpers/rootfs.ts), keepalive's build mounted at /app.
// One root filesystem serves the whole file; the cases run at the same time.
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import {
  Container,
  IN_CONTAINER_CLI,
  IN_CONTAINER_FIXTURES,
  podman,
  podmanMissing,
  removeLeftoverContainers,
  type Run,
} from '../helpers/podman.js';
import { childrenOf, eventually, processState } from '../helpers/proc.js';
import { assembleRootfs, type Rootfs } from '../helpers/rootfs.js';

let rootfs: Rootfs | undefined;

test.before(async () => {
  const missing = podmanMissing();
  if (missing !== undefined) throw new Error(`the container tests cannot run: ${missing}`);
  await removeLeftoverContainers();
  rootfs = assembleRootfs();
  // An npm project for the npm-shaped child: npm -> sh -c -> node.
  const app = join(rootfs.dir, 'srv/npm-app');
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'npm-app',
      version: '1.0.0',
      scripts: {
        start: `node ${IN_CONTAINER_FIXTURES}signal-recorder.js SIGTERM; echo not reached`,
      },
    }),
  );
});

test.after.always(() => rootfs?.remove());

const fixture = (name: string): string => `${IN_CONTAINER_FIXTURES}${name}`;

// At most this many containers at once: the cases still overlap, but two cores shared with other
// test files are not asked to start twenty Node processes and their podman at the same instant.
const SLOTS = 6;
let free = SLOTS;
const waiting: Array<() => void> = [];
const takeSlot = async (): Promise<void> => {
  if (free > 0) free -= 1;
  else await new Promise<void>((resolve) => waiting.push(resolve));
};
const releaseSlot = (): void => {
  const next = waiting.shift();
  if (next) next();
  else free += 1;
};

/**
 * Starts a container (when a slot is free) and removes it when the test ends, whatever happened.
 */
async function container(
  t: { teardown(fn: () => Promise<void>): void },
  args: readonly string[],
  podmanOptions: readonly string[] = [],
): Promise<Container> {
  if (rootfs === undefined) throw new Error('no root filesystem');
  await takeSlot();
  const started = new Container(rootfs, args, { podman: podmanOptions });
  t.teardown(async () => {
    await started.remove();
    releaseSlot();
  });
  return started;
}

/**
 * podman stop sends SIGTERM, then SIGKILL after -t seconds and says so: keepalive must have ended
 * the container before that. (The time is not bounded tighter: on a loaded machine podman itself is
 * slow; the final log line and the child's status show that keepalive, not podman's SIGKILL, ended
 * it.)
 */
function stoppedByKeepalive(t: ExecutionContext, stop: Run): void {
  t.is(stop.status, 0, stop.stderr);
  t.notRegex(stop.stderr, /resorting to SIGKILL/);
  t.log(`podman stop took ${Math.round(stop.ms)}ms`);
}

test('podman stop: a child that exits cleanly on SIGTERM ends the container with status 0', async (t) => {
  const box = await container(t, ['--', fixture('trap-term.sh')]);
  await box.line('stdout', /^ready$/);
  const stop = await box.stop(10);
  const ended = await box.end();
  t.is(ended.status, 0, box.stderr.text);
  t.true(box.stdout.all.includes('got TERM'));
  t.regex(box.stderr.text, /SIGTERM received: stopping trap-term\[\d+\]/);
  t.regex(box.stderr.text, /trap-term\[\d+\] exited with code 0; stopped/);
  stoppedByKeepalive(t, stop);
});

test('podman stop: a child that ignores SIGTERM is SIGKILLed by keepalive, which logs it before podman would', async (t) => {
  const box = await container(t, ['--kill-timeout', '1s', '--', fixture('ignore-stop.sh')]);
  await box.line('stdout', /^ready$/);
  const stop = await box.stop(8);
  const ended = await box.end();
  t.is(ended.status, 137, box.stderr.text);
  t.regex(
    box.stderr.text,
    /ignore-stop\[\d+\] still running [\d.]+s after SIGTERM: sending SIGKILL/,
  );
  t.regex(
    box.stderr.text,
    /ignore-stop\[\d+\] killed: SIGKILL \(Forced termination\), status 137; stopped/,
  );
  t.true(stop.ms >= 900, `podman stop took ${stop.ms}ms`);
  stoppedByKeepalive(t, stop);
});

test('podman stop: an `sh -c` child stops as a whole, status 143', async (t) => {
  const box = await container(t, [
    '--',
    'sh',
    '-c',
    'sleep 1000 & echo started; sleep 1001; echo not reached',
  ]);
  await box.line('stdout', /^started$/);
  const stop = await box.stop(10);
  const ended = await box.end();
  t.is(ended.status, 143, box.stderr.text);
  t.regex(box.stderr.text, /sh\[\d+\] killed: SIGTERM \(Termination\), status 143; stopped/);
  t.false(box.stdout.all.includes('not reached'));
  stoppedByKeepalive(t, stop);
});

test('podman stop: an `npm start` child (npm -> sh -c -> node) stops as a whole', async (t) => {
  const box = await container(
    t,
    ['--', 'npm', 'start'],
    [
      '--workdir',
      '/srv/npm-app',
      '--env',
      'HOME=/tmp',
      '--env',
      'npm_config_update_notifier=false',
    ],
  );
  await box.line('stdout', /^ready$/);
  const stop = await box.stop(10);
  const ended = await box.end();
  t.true(box.stdout.all.includes('got SIGTERM'), box.stdout.text);
  t.regex(box.stderr.text, /npm\[\d+\] killed: SIGTERM \(Termination\), status 143; stopped/);
  t.is(ended.status, 143, box.stderr.text);
  stoppedByKeepalive(t, stop);
});

type Action = 'stop' | 'forward' | 'ignore' | 'kill' | 'freeze';

/**
 * What keepalive as PID 1 does with each signal `podman kill --signal` sends it: the README's
 * "Stopping and signals" table, one row per signal. stop: the child gets the same signal, the
 * container ends with the child's status and nothing restarts; forward: the child gets it and
 * runs on; ignore: the child never gets it (and is not stopped); kill: the kernel ends keepalive,
 * and the container with it; freeze: the kernel stops keepalive alone until SIGCONT.
 */
const SIGNALS: ReadonlyArray<readonly [NodeJS.Signals, Action, string?]> = [
  ['SIGTERM', 'stop'],
  ['SIGINT', 'stop'],
  ['SIGQUIT', 'stop'],
  ['SIGPWR', 'stop'],
  ['SIGXCPU', 'stop'],
  ['SIGHUP', 'forward'],
  ['SIGUSR1', 'forward'],
  ['SIGUSR2', 'forward'],
  ['SIGWINCH', 'forward'],
  ['SIGCONT', 'forward'],
  ['SIGALRM', 'forward'],
  ['SIGURG', 'forward'],
  ['SIGSTKFLT', 'forward'],
  ['SIGABRT', 'forward'],
  ['SIGTSTP', 'ignore'],
  ['SIGTTIN', 'ignore'],
  ['SIGTTOU', 'ignore'],
  ['SIGCHLD', 'ignore'],
  ['SIGTRAP', 'ignore'],
  ['SIGSYS', 'ignore'],
  // The kernel's word that keepalive's notify pipe has data: looked at, never forwarded.
  ['SIGIO', 'ignore'],
  ['SIGKILL', 'kill'],
  ['SIGSTOP', 'freeze'],
];

for (const [signal, action, note = ''] of SIGNALS) {
  test(`podman kill --signal ${signal.slice(3)}: ${action}${note}`, async (t) => {
    const dieOf = action === 'stop' ? [signal] : [];
    const box = await container(t, [
      '--kill-timeout',
      '3s',
      '--',
      'node',
      fixture('signal-recorder.js'),
      ...dieOf,
    ]);
    await box.line('stdout', /^ready$/);
    const keepalive = await box.hostPid();
    const child = await eventually('the child under keepalive', () => childrenOf(keepalive)[0]);
    await box.kill(signal.slice(3));
    const got = `got ${signal}`;
    switch (action) {
      case 'stop': {
        const ended = await box.end(15_000);
        const status = 128 + constants.signals[signal];
        t.is(ended.status, status, box.stderr.text);
        t.true(box.stdout.all.includes(got));
        t.regex(
          box.stderr.text,
          new RegExp(`${signal} received: stopping signal-recorder\\[\\d+\\]`),
        );
        t.regex(
          box.stderr.text,
          new RegExp(
            `signal-recorder\\[\\d+\\] (killed|crashed): ${signal} .*status ${status}.*; stopped`,
          ),
        );
        break;
      }
      case 'forward':
        await box.line('stdout', new RegExp(`^${got}$`));
        t.is(await box.inspect('{{.State.Running}}'), 'true');
        t.notRegex(box.stderr.text, /stopping/);
        break;
      case 'ignore': {
        // SIGUSR1, which is forwarded, goes after it: once the child has it, the first had its
        // turn.
        await box.kill('USR1');
        await box.line('stdout', /^got SIGUSR1$/);
        await new Promise((resolve) => setTimeout(resolve, 300));
        t.false(box.stdout.all.includes(got), box.stdout.text);
        t.not(processState(child), 'T');
        t.not(processState(keepalive), 'T');
        t.is(await box.inspect('{{.State.Running}}'), 'true');
        break;
      }
      case 'kill': {
        const ended = await box.end();
        t.is(ended.status, 137);
        t.notRegex(box.stderr.text, /stopping|stopped/);
        break;
      }
      case 'freeze':
        await eventually('keepalive to be stopped', () => processState(keepalive) === 'T');
        t.not(processState(child), 'T');
        await box.kill('CONT');
        await box.line('stdout', /^got SIGCONT$/);
        t.not(processState(keepalive), 'T');
        break;
    }
  });
}

test('orphans in the container are reaped by keepalive, PID 1', async (t) => {
  const box = await container(t, ['-v', '--', fixture('orphans.sh'), '100']);
  await box.line('stdout', /^orphaned 100$/);
  const keepalive = await box.hostPid();
  await eventually(
    '100 orphans to be reaped',
    () =>
      box.stderr.all.filter((line) => /reaped orphan \d+ \(exited with code 0\)/.test(line))
        .length >= 100,
  );
  t.deepEqual(
    childrenOf(keepalive).filter((pid) => processState(pid) === 'Z'),
    [],
  );
  await box.stop(10);
  t.is((await box.end()).status, 143, box.stderr.text);
});

test('an OOM kill under podman run --memory is told as oom-killed, status 137', async (t) => {
  const hog = 'const held = []; for (;;) held.push(Buffer.alloc(16 * 1024 * 1024, 1));';
  const box = await container(
    t,
    ['--restart', 'never', '--', 'node', '-e', hog],
    ['--memory', '160m', '--memory-swap', '160m'],
  );
  const ended = await box.end();
  t.is(ended.status, 137, box.stderr.text);
  t.regex(
    box.stderr.text,
    /node\[\d+\] oom-killed: out of memory, the kernel's OOM killer sent SIGKILL, status 137/,
  );
});

const PIDFILE = ['--pidfile', '/run/keepalive.pid'];

test('podman exec ... keepalive restart restarts the child, not the container', async (t) => {
  const box = await container(t, [...PIDFILE, '--', 'sleep', '1000']);
  await box.line('stderr', /sleep\[\d+\] started$/);
  const keepalive = await box.hostPid();
  const restart = await box.exec(['node', IN_CONTAINER_CLI, 'restart', ...PIDFILE]);
  t.is(restart.status, 0, restart.stdout + restart.stderr);
  t.regex(restart.stdout + restart.stderr, /restarted: sleep\[\d+\] \(was sleep\[\d+\]\)/);
  await box.line('stderr', /sleep\[\d+\] started \(restart 1\)$/);
  t.is(await box.hostPid(), keepalive);
  t.is(await box.inspect('{{.State.Running}}'), 'true');
  await box.stop(10);
  t.is((await box.end()).status, 143, box.stderr.text);
});

test('keepalive status as the health check: healthy only while the child runs', async (t) => {
  const health = [
    '--health-cmd',
    `node ${IN_CONTAINER_CLI} status ${PIDFILE.join(' ')}`,
    '--health-interval',
    'disable',
    '--health-retries',
    '1',
  ];
  // A long --delay keeps the child down for a while after it is killed.
  const box = await container(t, [...PIDFILE, '--delay', '1m', '--', 'sleep', '1000'], health);
  await box.line('stderr', /sleep\[\d+\] started$/);
  const check = (): Promise<number | null> =>
    podman(['healthcheck', 'run', box.name]).then((run) => run.status);
  t.is(await check(), 0);
  t.is(await box.inspect('{{.State.Health.Status}}'), 'healthy');
  const keepalive = await box.hostPid();
  process.kill(
    await eventually('the child under keepalive', () => childrenOf(keepalive)[0]),
    'SIGKILL',
  );
  await box.line('stderr', /sleep\[\d+\] killed: SIGKILL .*; restart 1 in/);
  t.is(await check(), 1);
  t.is(await box.inspect('{{.State.Health.Status}}'), 'unhealthy');
  // keepalive restart starts the child at once, and the check is healthy again.
  t.is((await box.exec(['node', IN_CONTAINER_CLI, 'restart', ...PIDFILE])).status, 0);
  t.is(await check(), 0);
  t.is(await box.inspect('{{.State.Health.Status}}'), 'healthy');
});
