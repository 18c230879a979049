// The signal table, end to end: every signal 1-31 that can be caught and is not a fault goes to a
// real keepalive, which must do what SIGNAL_ACTIONS says, and never leave its child running without
// it; forwarding, --stop-signal on a restart, Ctrl+Z then fg.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { signalsByNumber } from 'human-signals';
import { fixture, Keepalive } from '../helpers/keepalive.js';
import {
  children,
  childrenOf,
  eventually,
  killMarked,
  processState,
  stoppedTree,
  uniqueMarker,
  workspace,
} from '../helpers/proc.js';
import { FORWARDED_SIGNALS, SIGNAL_ACTIONS, type SignalAction } from '../../src/tree/signals.js';
import type { SignalName } from '../../src/core/signals.js';
import { type ExitEvent, supervise } from '../../src/index.js';

const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc'];

/** Left to their default action (see SIGNAL_ACTIONS), or not catchable at all: not sent. */

const NOT_SENT = new Set<SignalAction>(['default', 'uncatchable']);

/** Signals 1-31 by number, named by human-signals, with their action from the table. */

const SIGNALS = Array.from({ length: 31 }, (_, index) => {
  const name = (signalsByNumber as Record<number, { name: SignalName }>)[index + 1]
    ?.name as SignalName;
  return {
    number: index + 1,
    name,
    action: (SIGNAL_ACTIONS as Partial<Record<SignalName, SignalAction>>)[name],
  };
});

test('the table gives every signal 1-31 an action; only the four faults keep the default', (t) => {
  t.deepEqual(
    SIGNALS.filter((signal) => signal.action === undefined),
    [],
  );
  t.deepEqual(
    SIGNALS.filter((signal) => signal.action === 'default').map((signal) => signal.name),
    ['SIGILL', 'SIGBUS', 'SIGFPE', 'SIGSEGV'],
  );
  t.is(SIGNAL_ACTIONS.SIGPWR, 'stop');
});

interface Running {
  keepalive: Keepalive;
  /** keepalive's pid as this test sees it (outside a PID namespace). */
  supervisor: number;
  /** The child's pid as this test sees it. */
  child: number;
}

/** keepalive and its child, which exits 0 on SIGTERM and on `leaveOn`. */

async function start(
  t: ExecutionContext,
  leaveOn: SignalName | undefined,
  pid1: boolean,
): Promise<Running> {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const keepalive = new Keepalive(
    [
      '-v',
      '--kill-timeout',
      '5s',
      '--',
      'node',
      fixture('signals-child.js'),
      marker,
      'SIGTERM',
      ...(leaveOn ? [leaveOn] : []),
    ],
    pid1 ? { wrapper: UNSHARE } : {},
  );
  t.teardown(() => keepalive.process.kill('SIGKILL'));
  await keepalive.stdout.next(/^ready$/);
  const child = (await eventually('the child in /proc', () => children(marker)[0])).pid;
  const supervisor = pid1 ? (childrenOf(keepalive.pid)[0] as number) : keepalive.pid;
  t.is(parentOf(child), supervisor, "the child is keepalive's");
  return { keepalive, supervisor, child };
}

/** Sends `signal` and checks that keepalive does what the table says. */

async function expectAction(
  t: ExecutionContext,
  running: Running,
  signal: SignalName,
  action: SignalAction,
): Promise<void> {
  const { keepalive, supervisor, child } = running;
  const seen = keepalive.stdout.all.length;
  const logged = keepalive.stderr.all.length;
  process.kill(supervisor, signal);
  switch (action) {
    case 'stop': {
      await within(
        keepalive.stderr.next(new RegExp(`${signal} received: stopping`), logged),
        `keepalive to stop on ${signal}`,
        running,
      );
      const ended = await within(keepalive.ended, `keepalive to end after ${signal}`);
      t.true(keepalive.stdout.all.slice(seen).includes(`got ${signal}`), `the child got ${signal}`);
      t.is(ended.status, 0, "keepalive exits with the child's status");
      t.is(processState(child), undefined, 'the child is gone');
      return;
    }
    case 'forward': {
      const got = keepalive.stdout.next(new RegExp(`^got ${signal}$`), seen);
      await within(got, `the child to get ${signal}`, running);
      await keepalive.stderr.next(new RegExp(`${signal} forwarded to`), logged);
      break;
    }
    case 'suspend':
      await within(
        eventually(
          'keepalive and the child to stop',
          () => processState(supervisor) === 'T' && processState(child) === 'T',
        ),
        `keepalive to stop on ${signal}`,
        running,
      );
      process.kill(supervisor, 'SIGCONT');
      await within(keepalive.stdout.next(/^got SIGCONT$/, seen), 'the child to resume', running);
      break;
    case 'ignore':
      await within(
        keepalive.stderr.next(new RegExp(`${signal} received: ignored`), logged),
        `the -v line for ${signal}`,
        running,
      );
      await notForwarded(running, signal, seen);
      break;
    case 'node-ignores':
    case 'children':
    case 'pipes':
      await notForwarded(running, signal, seen);
      break;
    case 'default':
    case 'uncatchable':
      throw new Error(`${signal} is not sent`);
  }
  // keepalive is still there, and the child still its own: then a stop ends both.
  t.is(parentOf(child), supervisor, `after ${signal} the child is still keepalive's`);
  process.kill(supervisor, 'SIGTERM');
  await within(keepalive.ended, 'keepalive to end on SIGTERM');
  t.is(processState(child), undefined, 'the child is gone');
}

/** A second signal that is forwarded arrives; the first never did. */

async function notForwarded(running: Running, signal: SignalName, seen: number): Promise<void> {
  const { keepalive, supervisor } = running;
  process.kill(supervisor, 'SIGUSR2');
  await within(keepalive.stdout.next(/^got SIGUSR2$/, seen), 'the child to get SIGUSR2', running);
  if (keepalive.stdout.all.slice(seen).includes(`got ${signal}`))
    throw new Error(`${signal} reached the child`);
}

/**
 * The promise, or a clear failure instead of the test's timeout; with `running`, also if keepalive
 * ends first.
 */

async function within<T>(
  promise: Promise<T>,
  what: string,
  running?: Running,
  timeoutMs = 15_000,
): Promise<T> {
  // Cleared when the race is over: a timer left behind kept this file's process alive after its
  // tests, and ava reported "Failed to exit".
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const late = (): void =>
      reject(new Error(`timed out after ${timeoutMs}ms waiting for ${what}`));
    timer = setTimeout(late, timeoutMs);
  });
  // 'exit', not 'close': a child left running holds keepalive's output pipes open.
  const died =
    running &&
    exited(running.keepalive).then(({ status, signal }) => {
      const orphan =
        processState(running.child) === undefined
          ? ''
          : `; its child ${running.child} runs on without it`;
      throw new Error(
        `keepalive ended (${signal ?? `status ${status}`}) while waiting for ${what}${orphan}`,
      );
    });
  try {
    return await Promise.race([promise, timeout, ...(died ? [died] : [])]);
  } finally {
    clearTimeout(timer);
  }
}

function exited(
  keepalive: Keepalive,
): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
  const { exitCode, signalCode } = keepalive.process;
  if (exitCode !== null || signalCode !== null)
    return Promise.resolve({ status: exitCode, signal: signalCode });
  return once(keepalive.process, 'exit').then(([status, signal]) => ({
    status: status as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
}

/** SIGKILL to each pid (a negative one: a process group); those already gone are skipped. */

function killAll(targets: readonly number[]): void {
  for (const target of targets) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The parent's pid from /proc/<pid>/stat; undefined once the process is gone. */

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

for (const { number, name, action } of SIGNALS) {
  if (action === undefined || NOT_SENT.has(action)) continue;
  test.serial(
    `${name} (${number}): ${action}; the child never runs on without keepalive`,
    async (t) => {
      await expectAction(
        t,
        await start(t, action === 'stop' ? name : undefined, false),
        name,
        action,
      );
    },
  );
}

const AS_PID1: SignalName[] = ['SIGPWR', 'SIGXCPU', 'SIGALRM', 'SIGTRAP', 'SIGPIPE'];

for (const name of AS_PID1) {
  const action = SIGNAL_ACTIONS[name as keyof typeof SIGNAL_ACTIONS];
  test.serial(`as PID 1, ${name}: ${action}`, async (t) => {
    const probe = spawnSync(UNSHARE[0] as string, [...UNSHARE.slice(1), 'true'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0) {
      t.fail(
        `PID 1 tests cannot run: "${UNSHARE.join(' ')} true" failed (${probe.error?.message ?? probe.stderr.trim()}); run them as root`,
      );
      return;
    }
    const running = await start(t, action === 'stop' ? name : undefined, true);
    await expectAction(t, running, name, action);
  });
}

test.serial(
  'a SIGHUP storm during the exit changes nothing: 20 of 20 runs exit 5 and remove their files',
  async (t) => {
    const marker = uniqueMarker();
    const directory = workspace(t, marker);
    const script = 'trap "exit 5" HUP; echo ready; while :; do sleep 0.05; done';
    const failed: string[] = [];
    for (let run = 0; run < 20; run++) {
      const pidfile = join(directory, `run${run}.pid`);
      const keepalive = new Keepalive([
        '--restart',
        'never',
        '--pidfile',
        pidfile,
        '--',
        'sh',
        '-c',
        script,
        marker,
      ]);
      t.teardown(() => keepalive.process.kill('SIGKILL'));
      await within(keepalive.stdout.next(/^ready$/), 'the child to start');
      // SIGHUP as fast as a shell can send it, until keepalive is gone (and reaped by this test).
      const storm = spawn(
        'sh',
        ['-c', 'while kill -HUP "$1" 2>/dev/null; do :; done', 'storm', String(keepalive.pid)],
        { stdio: 'ignore' },
      );
      t.teardown(() => storm.kill('SIGKILL'));
      const ended = await within(exited(keepalive), `run ${run} to end`);
      await once(storm, 'exit');
      const left = readdirSync(directory).filter((name) => name.startsWith(`run${run}.pid`));
      if (ended.status !== 5 || left.length > 0)
        failed.push(
          `run ${run}: ${ended.signal ?? `status ${ended.status}`}, files left: ${left.join(' ') || 'none'}`,
        );
    }
    t.deepEqual(failed, []);
  },
);

test.serial(
  "a SIGIO storm (the notify pipe's doorbell, rung by a stranger) changes nothing: beats read, no hang, the child's own status",
  async (t) => {
    const marker = uniqueMarker();
    t.teardown(() => killMarked(marker));
    // Beats every 50 ms for a 1 s heartbeat, then exits 5 on its own: SIGIO never reaches it.
    const script =
      'echo ready; i=0; while [ $i -lt 30 ]; do echo >&3; i=$((i+1)); sleep 0.05; done; exit 5';
    const keepalive = new Keepalive([
      '--restart',
      'never',
      '--heartbeat',
      '1s',
      '--',
      'sh',
      '-c',
      script,
      marker,
    ]);
    t.teardown(() => keepalive.process.kill('SIGKILL'));
    await within(keepalive.stdout.next(/^ready$/), 'the child to start');
    // The stranger at the lowest priority: it rings as fast as it can, but on a loaded two-core
    // machine it must not starve the child's own beats (a child that cannot beat is rightly hung).
    const storm = spawn(
      'nice',
      [
        '-n',
        '19',
        'sh',
        '-c',
        'while kill -IO "$1" 2>/dev/null; do :; done',
        'storm',
        String(keepalive.pid),
      ],
      { stdio: 'ignore' },
    );
    t.teardown(() => storm.kill('SIGKILL'));
    const ended = await within(exited(keepalive), 'keepalive to end with its child');
    t.is(ended.status, 5, keepalive.stderr.text);
    t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  },
);

test.serial(
  'nohup does not protect the child: an inherited "ignore" of SIGHUP is reset, and SIGHUP is forwarded',
  async (t) => {
    const marker = uniqueMarker();
    t.teardown(() => killMarked(marker));
    // What nohup does before it execs keepalive: SIGHUP set to "ignore".
    const keepalive = new Keepalive(
      ['-v', '--', 'node', fixture('signals-child.js'), marker, 'SIGTERM'],
      {
        wrapper: ['sh', '-c', 'trap "" HUP; exec "$@"', 'nohup-like'],
      },
    );
    t.teardown(() => keepalive.process.kill('SIGKILL'));
    await keepalive.stdout.next(/^ready$/);
    const child = (await eventually('the child in /proc', () => children(marker)[0])).pid;
    const seen = keepalive.stdout.all.length;
    keepalive.signal('SIGHUP');
    await within(keepalive.stdout.next(/^got SIGHUP$/, seen), 'the child to get SIGHUP', {
      keepalive,
      supervisor: keepalive.pid,
      child,
    });
    keepalive.signal('SIGTERM');
    t.is((await keepalive.ended).status, 0);
  },
);

// dumb-init's test_proxies_signals: a child that traps SIGTERM and leaves on SIGQUIT. Each signal
// is sent once the last one arrived, and 300 ms later as in dumb-init: the order holds under load.
test.serial('signals during a stop reach the child: TERM, HUP, USR1, QUIT, in order', async (t) => {
  const marker = uniqueMarker();
  t.teardown(() => killMarked(marker));
  const command = ['node', fixture('signals-child.js'), marker, 'SIGQUIT'];
  const args = ['--restart', 'never', '--kill-timeout', '60s', '--', ...command];
  const keepalive = new Keepalive(args);
  t.teardown(() => keepalive.process.kill('SIGKILL'));
  await within(keepalive.stdout.next(/^ready$/), 'the child to start');
  const child = (await eventually('the child in /proc', () => children(marker)[0])).pid;
  const running = { keepalive, supervisor: keepalive.pid, child };
  const sent: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGQUIT'];
  for (const signal of sent) {
    const seen = keepalive.stdout.all.length;
    keepalive.signal(signal);
    if (signal === 'SIGQUIT') break; // the child leaves on it: keepalive may be gone at once
    const got = keepalive.stdout.next(new RegExp(`^got ${signal}$`), seen);
    await within(got, `the child to get ${signal}`, running);
    await sleep(300);
  }
  // Long before the kill timeout: the child left on SIGQUIT, nothing had to SIGKILL it.
  const ended = await within(keepalive.ended, 'keepalive to end with its child', undefined, 20_000);
  const got = keepalive.stdout.all.filter((line) => line.startsWith('got '));
  t.deepEqual(
    got,
    sent.map((signal) => `got ${signal}`),
    keepalive.stderr.text,
  );
  t.is(ended.status, 0, keepalive.stderr.text);
  t.notRegex(keepalive.stderr.text, /sending SIGKILL/);
});

test('every forwarded signal reaches the child; SIGCHLD and SIGSTOP are not forwarded', async (t) => {
  const keepalive = new Keepalive(['--', 'node', fixture('record-signals.js')]);
  t.teardown(() => keepalive.process.kill('SIGKILL'));
  await keepalive.stdout.next(/^ready$/);
  const childPid = await keepalive.childPid();
  t.teardown(() => killAll([-childPid]));
  for (const signal of FORWARDED_SIGNALS) {
    const seen = keepalive.stdout.all.length;
    keepalive.signal(signal);
    await keepalive.stdout.next(new RegExp(`^got ${signal}$`), seen);
  }
  // SIGCHLD to keepalive, then a marker: the marker arrives and SIGCHLD never did.
  const beforeChld = keepalive.stdout.all.length;
  keepalive.signal('SIGCHLD');
  keepalive.signal('SIGUSR2');
  await keepalive.stdout.next(/^got SIGUSR2$/, beforeChld);
  // SIGSTOP stops keepalive alone; the child runs on. SIGCONT resumes keepalive and reaches the
  // child.
  keepalive.signal('SIGSTOP');
  await eventually('keepalive to stop', () => processState(keepalive.pid) === 'T');
  t.not(processState(childPid), 'T');
  const beforeCont = keepalive.stdout.all.length;
  keepalive.signal('SIGCONT');
  await keepalive.stdout.next(/^got SIGCONT$/, beforeCont);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;

  t.is(ended.status, 0);
  t.false(keepalive.stdout.all.includes('got SIGCHLD'));
  t.is(keepalive.stdout.all.filter((line) => line === 'got SIGTERM').length, 1);
});

test('--stop-signal is what keepalive uses when it restarts the child itself', async (t) => {
  const supervisor = supervise({ command: 'sleep', args: ['1000'], stopSignal: 'SIGUSR2' });
  t.teardown(() => supervisor.stop('SIGKILL'));
  await once(supervisor, 'spawn');
  supervisor.restart();
  const [exit] = (await once(supervisor, 'exit')) as [ExitEvent];
  supervisor.stop();
  await supervisor.done;
  t.like(exit, {
    outcome: { kind: 'killed', signal: 'SIGUSR2' },
    next: { action: 'restart', planned: true },
  });
});

test('Ctrl+Z then fg is not a hang: the time stopped is not silence', async (t) => {
  const keepalive = new Keepalive(['--heartbeat', '1s', '--', fixture('beater.sh')]);
  const pid = await keepalive.childPid();
  // Should the test fail half-way, leave nothing stopped behind.
  t.teardown(() => killAll([-pid, keepalive.pid]));
  await keepalive.stdout.next(/^beat 3$/);
  keepalive.signal('SIGTSTP');
  await eventually(
    'keepalive and the child to be stopped',
    () => processState(keepalive.pid) === 'T' && stoppedTree(pid),
  );
  await sleep(2500); // stopped for longer than the heartbeat timeout: the scenario itself
  const seen = keepalive.stdout.all.length;
  keepalive.signal('SIGCONT');
  await keepalive.stdout.next(/^beat \d+$/, seen + 5); // five beats after the resume
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  t.false(keepalive.stderr.text.includes('restart 1'), keepalive.stderr.text);
});
