// The heart end to end: its flags and their checks, and real children beating (or not) on the
// notify channel.
import test, { type ExecutionContext } from 'ava';
import { resolveOptions } from '../../src/options.js';
import { alive, fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';

const usageErrors: Array<[string[], string]> = [
  [
    ['--heartbeat', '5'],
    '--heartbeat "5": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did you mean 5s or 5ms?)',
  ],
  [['--heartbeat', '0'], '--heartbeat "0": expected a duration above 0, such as 5s'],
  [
    ['--heartbeat', 'often'],
    '--heartbeat "often": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h',
  ],
  [
    ['--heartbeat-grace', '10s'],
    '--heartbeat-grace needs --heartbeat: there is no first heartbeat to wait for',
  ],
  [
    ['--heartbeat', '1s', '--heartbeat-grace', 'later'],
    '--heartbeat-grace "later": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h',
  ],
  [
    ['--hang-signal', 'SIGNOPE'],
    '--hang-signal "SIGNOPE": expected a signal name or number, such as SIGTERM, TERM or 15',
  ],
  [
    ['--notify-fd', '2'],
    '--notify-fd "2": expected a file descriptor from 3 to 255 (0-2 are the child\'s stdin, stdout and stderr)',
  ],
  [
    ['--notify-fd', 'three'],
    '--notify-fd "three": expected a file descriptor from 3 to 255 (0-2 are the child\'s stdin, stdout and stderr)',
  ],
  [
    ['--notify-fd', '256'],
    '--notify-fd "256": expected a file descriptor from 3 to 255 (0-2 are the child\'s stdin, stdout and stderr)',
  ],
  [['--notify-access', 'some'], '--notify-access "some": expected one of all, main, none'],
  [
    ['--health-url', 'localhost:8080'],
    '--health-url "localhost:8080": expected an http:// or https:// URL, such as http://localhost:8080/health',
  ],
  [
    ['--health-url', 'ftp://example.com/'],
    '--health-url "ftp://example.com/": expected an http:// or https:// URL, such as http://localhost:8080/health',
  ],
  [
    ['--health-cmd', ''],
    '--health-cmd "": expected a shell command, such as "curl -fs localhost:8080"',
  ],
  [
    ['--health-url', 'http://x/', '--health-cmd', 'true'],
    '--health-url and --health-cmd cannot be used together; choose one',
  ],
  [['--health-interval', '5s'], '--health-interval needs --health-url or --health-cmd'],
  [['--health-retries', '5'], '--health-retries needs --health-url or --health-cmd'],
  [
    ['--health-cmd', 'true', '--health-interval', '0'],
    '--health-interval "0": expected a duration above 0, such as 5s',
  ],
  [
    ['--health-cmd', 'true', '--health-timeout', '3'],
    '--health-timeout "3": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did you mean 3s or 3ms?)',
  ],
  [
    ['--health-cmd', 'true', '--health-retries', '0'],
    '--health-retries "0": expected a whole number of 1 or more, such as 3',
  ],
  [
    ['--health-cmd', 'true', '--health-retries', 'x'],
    '--health-retries "x": expected a whole number of 1 or more, such as 3',
  ],
  [
    ['--health-cmd', 'true', '--health-start-period=-1s'],
    '--health-start-period "-1s": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h',
  ],
];

for (const [args, message] of usageErrors) {
  test(`bad usage: ${args.join(' ')}`, async (t) => {
    const result = await runKeepalive([...args, '--', 'true']);
    t.is(result.status, 2);
    t.is(result.stderr, `keepalive: ${message}\n`);
    t.is(result.stdout, '');
  });
}

test('--help lists the heartbeat and health-check flags', async (t) => {
  const result = await runKeepalive(['--help']);
  for (const flag of [
    '--heartbeat ',
    '--heartbeat-grace',
    '--hang-signal',
    '--notify-fd',
    '--notify-access',
    '--health-url',
    '--health-cmd',
    '--health-interval',
    '--health-timeout',
    '--health-retries',
    '--health-start-period',
  ]) {
    t.true(result.stdout.includes(flag), flag);
  }
});

test('API options: defaults as Docker and heart have them, and checks that name the option', (t) => {
  const plain = resolveOptions({ command: 'x' }).heart;
  t.deepEqual(plain, {
    heartbeat: undefined,
    heartbeatGrace: 0,
    hangSignal: 'SIGKILL',
    notifyFd: 3,
    notifyAccess: 'none',
    health: undefined,
  });
  const full = resolveOptions({
    command: 'x',
    heartbeat: 5000,
    healthUrl: 'http://localhost:1/',
  }).heart;
  t.is(full.heartbeatGrace, 5000);
  t.deepEqual(full.health, {
    probe: { kind: 'url', url: 'http://localhost:1/' },
    intervalMs: 30_000,
    timeoutMs: 30_000,
    retries: 3,
    startPeriodMs: 0,
  });
  t.like(resolveOptions({ command: 'x', healthCmd: 'true', healthRetries: 1 }).heart.health, {
    probe: { kind: 'command', command: 'true' },
    retries: 1,
  });
  t.throws(() => resolveOptions({ command: 'x', heartbeat: 0 }), {
    message: 'heartbeat: 0 is not allowed; use a duration above 0',
  });
  t.throws(() => resolveOptions({ command: 'x', heartbeatGrace: 10 }), {
    message: 'heartbeatGrace needs heartbeat: there is no first heartbeat to wait for',
  });
  t.throws(() => resolveOptions({ command: 'x', notifyFd: 1 }), {
    message:
      "notifyFd: 1 is not allowed; use a file descriptor from 3 to 255 (0-2 are the child's stdin, stdout and stderr)",
  });
  t.throws(() => resolveOptions({ command: 'x', healthInterval: 10 }), {
    message: 'healthInterval needs healthUrl or healthCmd',
  });
  t.throws(() => resolveOptions({ command: 'x', healthUrl: 'nope' }), {
    message: 'healthUrl: "nope" is not allowed; use an http:// or https:// URL',
  });
  t.throws(() => resolveOptions({ command: 'x', healthCmd: 'true', healthRetries: 0 }), {
    message: 'healthRetries: 0 is not allowed; use a whole number of 1 or more',
  });
  t.throws(() => resolveOptions({ command: 'x', healthCmd: 'a', healthUrl: 'http://b/' }), {
    message: 'healthUrl and healthCmd cannot be used together; choose one',
  });
});

/** Milliseconds since `start`. */

const since = (start: number): number => performance.now() - start;

/** Generous: the machine is small and shared. */

const SLACK_MS = 3000;

test('a beating child stays up for several timeouts; a frozen one (kill -STOP) is hung, killed and restarted', async (t) => {
  const keepalive = new Keepalive([
    '--heartbeat',
    '1s',
    '--delay',
    '0',
    '--',
    fixture('beater.sh'),
  ]);
  const pid = await keepalive.childPid();
  await keepalive.stdout.next(/^beat 35$/);
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);

  process.kill(pid, 'SIGSTOP');
  const stoppedAt = performance.now();
  await keepalive.stderr.next(
    new RegExp(`^keepalive: beater\\[${pid}\\] hung: no heartbeat for [\\d.]+s; sending SIGKILL$`),
  );
  t.true(
    since(stoppedAt) <= 1000 + SLACK_MS,
    `declared hung ${Math.round(since(stoppedAt))}ms after the stop`,
  );
  await keepalive.stderr.next(
    new RegExp(
      `^keepalive: beater\\[${pid}\\] hung: no heartbeat for [\\d.]+s, killed with SIGKILL \\(Forced termination\\), status 137; restart 1 in \\d+ms$`,
    ),
  );
  const second = await keepalive.childPid(1);
  t.not(second, pid);
  t.false(alive(pid), 'the frozen child is gone without a kill -CONT');
  await keepalive.stdout.next(/^beat 2$/, keepalive.stdout.all.length);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test('a parent that blocked SIGIO changes nothing: the beats are read, no hang', async (t) => {
  // What a program may hand down through exec: a signal mask with SIGIO blocked. Beats must not
  // depend on any signal reaching keepalive.
  const blocking = [
    'python3',
    '-c',
    'import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGIO}); os.execvp(sys.argv[1], sys.argv[1:])',
  ];
  const keepalive = new Keepalive(['--heartbeat', '500ms', '--', fixture('beater.sh')], {
    wrapper: blocking,
  });
  await keepalive.childPid();
  await keepalive.stdout.next(/^beat 30$/);
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test('after steady beats, silence is a hang one timeout after the last beat, not before', async (t) => {
  // The last beat's wall-clock time, from the child, read just before it (so never after it): the
  // verdict must not come before that beat is 1 s old.
  const script = [
    'i=0',
    'while [ $i -lt 30 ]; do last=$(date +%s%3N); echo >&3; i=$((i+1)); sleep 0.1; done',
    'echo "silent since $last"',
    'exec sleep 1000',
  ].join('; ');
  const args = ['--heartbeat', '1s', '--restart', 'never', '--', 'sh', '-c', script];
  const keepalive = new Keepalive(args);
  stopAtEnd(t, keepalive);
  const [, last] = (await keepalive.stdout.next(/^silent since (\d+)$/)) as string[];
  await keepalive.stderr.next(/hung: no heartbeat for [\d.]+m?s; sending SIGKILL$/);
  const silentMs = Date.now() - Number(last);
  t.false(keepalive.stderr.text.includes('restart'), 'no hang while the child beat');
  t.true(silentMs >= 995, `declared hung ${silentMs} ms after the last beat`);
  t.true(silentMs <= 1000 + SLACK_MS, `declared hung ${silentMs} ms after the last beat`);
  t.is((await keepalive.ended).status, 137);
});

/** Ends keepalive (which stops its child) when the test ends, even if it failed half-way. */
function stopAtEnd(t: ExecutionContext, keepalive: Keepalive): void {
  t.teardown(async () => {
    const { process: child } = keepalive;
    if (child.exitCode !== null || child.signalCode !== null) return;
    keepalive.signal('SIGTERM');
    const timeout = setTimeout(() => keepalive.signal('SIGKILL'), 10_000);
    await keepalive.ended;
    clearTimeout(timeout);
  });
}

/** Beats every 100 ms; on SIGUSR1 (keepalive passes it on) runs `then`. */
const beater = (then: string): string[] => [
  'sh',
  '-c',
  `trap '${then}' USR1; while :; do echo >&3; sleep 0.1; done`,
];

test("a beating child's last words before its exit are read before its exit line", async (t) => {
  const child = beater('echo "STATUS=bye now" >&3; exit 3');
  const keepalive = new Keepalive([
    '-v',
    '--heartbeat',
    '10s',
    '--restart',
    'never',
    '--',
    ...child,
  ]);
  stopAtEnd(t, keepalive);
  await keepalive.childPid();
  keepalive.signal('SIGUSR1');
  t.is((await keepalive.ended).status, 3);
  const text = keepalive.stderr.text;
  const status = text.indexOf('status: bye now');
  t.true(status !== -1 && status < text.indexOf('exited with code 3'), text);
});

test("a beating child's MAINPID= just before its exit is taken: the run follows that process", async (t) => {
  const handOver = 'setsid sleep 300 & echo "MAINPID=$!" >&3; echo "service $!"; exit 0';
  const child = beater(handOver);
  const keepalive = new Keepalive([
    '-v',
    '--heartbeat',
    '10s',
    '--restart',
    'never',
    '--',
    ...child,
  ]);
  stopAtEnd(t, keepalive);
  await keepalive.childPid();
  keepalive.signal('SIGUSR1');
  const [, service] = (await keepalive.stdout.next(/^service (\d+)$/)) as string[];
  t.teardown(() => {
    try {
      process.kill(Number(service), 'SIGKILL');
    } catch {
      // Gone already.
    }
  });
  const handedOver = `exited with code 0 after handing over; \\w+\\[${service}\\] \\(MAINPID\\) runs on$`;
  await keepalive.stderr.next(new RegExp(handedOver));
  process.kill(Number(service), 'SIGTERM');
  t.is((await keepalive.ended).status, 143, keepalive.stderr.text);
});

test('a child beating at 500 KB/s is read as fast as it writes: no long write, no false hang', async (t) => {
  const keepalive = new Keepalive(['--heartbeat', '1s', '--', 'node', fixture('fast-beater.mjs')]);
  stopAtEnd(t, keepalive);
  const [, longest] = (await keepalive.stdout.next(/^longest write (\d+)$/)) as string[];
  // A pipe left unread would fill in about 130 ms and hold the child's write until it is read.
  t.true(Number(longest) < 400 + SLACK_MS / 2, `its longest write took ${longest} ms`);
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test('a Node.js app whose event loop blocks is caught by heartbeat() from keepalive-supervisor/client', async (t) => {
  const keepalive = new Keepalive([
    '--heartbeat',
    '600ms',
    '--heartbeat-grace',
    '10s',
    '--',
    'node',
    fixture('event-loop.mjs'),
    'block',
  ]);
  const pid = await keepalive.childPid();
  await keepalive.stdout.next(/^blocking$/);
  const blockedAt = performance.now();
  await keepalive.stderr.next(
    new RegExp(`event-loop\\[${pid}\\] hung: no heartbeat for [\\d.]+m?s; sending SIGKILL$`),
  );
  t.true(
    since(blockedAt) <= 600 + SLACK_MS,
    `declared hung ${Math.round(since(blockedAt))}ms after the loop blocked`,
  );
  await keepalive.childPid(1);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
});

test('the same app with a free event loop is left alone', async (t) => {
  const keepalive = new Keepalive([
    '--heartbeat',
    '600ms',
    '--heartbeat-grace',
    '10s',
    '--',
    'node',
    fixture('event-loop.mjs'),
  ]);
  await keepalive.stdout.next(/^tick 30$/);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  t.false(keepalive.stderr.text.includes('restart'), keepalive.stderr.text);
});

test('--hang-signal SIGABRT: the hang ends as an abort, status 134', async (t) => {
  const result = await runKeepalive([
    '--heartbeat',
    '300ms',
    '--hang-signal',
    'SIGABRT',
    '--restart',
    'never',
    '--',
    'sleep',
    '1000',
  ]);
  t.is(result.status, 134);
  t.regex(
    result.lines[1] ?? '',
    /^keepalive: sleep\[\d+\] hung: no heartbeat for [\d.]+m?s; sending SIGABRT$/,
  );
  t.regex(
    result.lines[2] ?? '',
    /^keepalive: sleep\[\d+\] hung: no heartbeat for [\d.]+m?s, killed with SIGABRT \(Aborted\), status 134(, .*core.*)?; not restarting/,
  );
});

test('--hang-signal SIGABRT ignored by the child: SIGKILL after --kill-timeout, status 137', async (t) => {
  const result = await runKeepalive([
    '--heartbeat',
    '300ms',
    '--hang-signal',
    'ABRT',
    '--kill-timeout',
    '300ms',
    '--restart',
    'never',
    '--',
    fixture('ignore-abrt.sh'),
  ]);
  t.is(result.status, 137);
  t.regex(result.stderr, /ignore-abrt\[\d+\] hung: no heartbeat for [\d.]+m?s; sending SIGABRT\n/);
  t.regex(
    result.stderr,
    /ignore-abrt\[\d+\] still running [\d.]+m?s after SIGABRT: sending SIGKILL\n/,
  );
  t.regex(
    result.lines.at(-1) ?? '',
    /ignore-abrt\[\d+\] hung: no heartbeat for [\d.]+m?s, SIGABRT did not end it, killed with SIGKILL \(Forced termination\), status 137; not restarting/,
  );
});

test('--heartbeat-grace: a slow starter is not killed before its first beat', async (t) => {
  const env = { FIRST_BEAT_AFTER: '1' };
  const keepalive = new Keepalive(
    ['--heartbeat', '500ms', '--heartbeat-grace', '6s', '--', fixture('beater.sh')],
    { env },
  );
  await keepalive.stdout.next(/^beat 10$/);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.false(keepalive.stderr.text.includes('hung'), keepalive.stderr.text);
  // Without the grace, the first beat is due within --heartbeat.
  const hasty = await runKeepalive(
    ['--heartbeat', '500ms', '--restart', 'never', '--', fixture('beater.sh')],
    { env },
  );
  t.is(hasty.status, 137);
  t.regex(hasty.stderr, /beater\[\d+\] hung: no heartbeat for [\d.]+m?s; sending SIGKILL/);
  t.false(hasty.stdout.includes('beat 1'));
});

test('WATCHDOG=trigger: hung at once, even without --heartbeat', async (t) => {
  const start = performance.now();
  const result = await runKeepalive([
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo WATCHDOG=trigger >&"$KEEPALIVE_NOTIFY_FD"; exec sleep 1000',
  ]);
  t.is(result.status, 137);
  t.regex(result.stderr, /sh\[\d+\] hung: it sent WATCHDOG=trigger; sending SIGKILL\n/);
  t.regex(
    result.stderr,
    /sh\[\d+\] hung: it sent WATCHDOG=trigger, killed with SIGKILL \(Forced termination\), status 137; not restarting/,
  );
  t.true(since(start) < 10_000);
});

test('WATCHDOG_USEC: the child sets its own timeout', async (t) => {
  const result = await runKeepalive([
    '-v',
    '--heartbeat',
    '2m',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo WATCHDOG_USEC=300000 >&3; exec sleep 1000',
  ]);
  t.is(result.status, 137);
  t.regex(result.stderr, /sh\[\d+\] set its heartbeat timeout to 300ms \(WATCHDOG_USEC\)\n/);
  t.regex(result.stderr, /sh\[\d+\] hung: no heartbeat for [\d.]+m?s; sending SIGKILL\n/);
});

test('EXTEND_TIMEOUT_USEC: the deadline moves once; the next beat brings the usual timeout back', async (t) => {
  const script =
    'echo EXTEND_TIMEOUT_USEC=4000000 >&3; sleep 1.5; echo beating; echo >&3; exec sleep 1000';
  const keepalive = new Keepalive([
    '-v',
    '--log-format',
    'json',
    '--heartbeat',
    '500ms',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    script,
  ]);
  const [hangLine = ''] = await keepalive.stderr.next(/^.*"event":"hang".*$/);
  t.true(keepalive.stdout.all.includes('beating'), 'the extension kept the child alive past 500ms');
  const hang = JSON.parse(hangLine) as { reason: string; silentMs: number };
  t.is(hang.reason, 'no-heartbeat');
  t.true(
    hang.silentMs >= 500 && hang.silentMs < 1500,
    `silent for ${hang.silentMs}ms after its beat`,
  );
  await keepalive.ended;
  t.regex(keepalive.stderr.text, /"event":"watchdog".*"change":"extend","dueInMs":4000/);
});

test('READY=1 starts the stable run: ready for --reset-after keeps the delay short; ready then dead grows it', async (t) => {
  const delays = async (script: string): Promise<number[]> => {
    const args = [
      '--log-format',
      'json',
      '--delay',
      '100ms',
      '--reset-after',
      '300ms',
      '--max-restarts',
      '3',
      '--',
      'sh',
      '-c',
      script,
    ];
    const result = await runKeepalive(args);
    return result.lines
      .map((line) => JSON.parse(line) as { event: string; next?: { delayMs?: number } })
      .filter((event) => event.event === 'exit' && event.next?.delayMs !== undefined)
      .map((event) => event.next?.delayMs ?? -1);
  };
  // Up for 0.6s in all, but ready for only 0.1s of it: the stable run is counted from READY=1.
  const readyLate = await delays('sleep 0.5; echo READY=1 >&3; sleep 0.1; exit 1');
  t.true(readyLate[2] !== undefined && readyLate[2] >= 360, readyLate.join(', '));
  const readyLong = await delays('echo READY=1 >&3; sleep 0.4; exit 1');
  t.is(readyLong.length, 3);
  t.true(
    readyLong.every((delay) => delay >= 90 && delay <= 110),
    readyLong.join(', '),
  );
  const readyThenDead = await delays('echo READY=1 >&3; exit 1');
  t.true(readyThenDead[2] !== undefined && readyThenDead[2] >= 360, readyThenDead.join(', '));
});

test('STATUS= texts appear in verbose logs only', async (t) => {
  const script = 'echo "STATUS=warming up: 3 of 5 caches" >&3; exit 0';
  const verbose = await runKeepalive(['-v', '--restart', 'never', '--', 'sh', '-c', script]);
  t.regex(verbose.stderr, /keepalive: sh\[\d+\] status: warming up: 3 of 5 caches\n/);
  const normal = await runKeepalive(['--restart', 'never', '--', 'sh', '-c', script]);
  t.false(normal.stderr.includes('warming up'), normal.stderr);
});

test('STOPPING=1: beats are no longer due, but the child must exit within --kill-timeout', async (t) => {
  const clean = await runKeepalive([
    '-v',
    '--heartbeat',
    '300ms',
    '--kill-timeout',
    '6s',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo STOPPING=1 >&3; sleep 1; exit 0',
  ]);
  t.is(clean.status, 0);
  t.regex(clean.stderr, /sh\[\d+\] is stopping \(STOPPING=1\)\n/);
  t.false(clean.stderr.includes('hung'), clean.stderr);
  const stuck = await runKeepalive([
    '--heartbeat',
    '300ms',
    '--kill-timeout',
    '500ms',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo STOPPING=1 >&3; exec sleep 1000',
  ]);
  t.is(stuck.status, 137);
  t.regex(
    stuck.stderr,
    /sh\[\d+\] hung: still running [\d.]+m?s after STOPPING=1, killed with SIGKILL \(Forced termination\), status 137/,
  );
});

test('the child is told where the channel is, and the timeout; --notify-fd moves the channel', async (t) => {
  const script =
    'echo "fd=$KEEPALIVE_NOTIFY_FD ms=${KEEPALIVE_HEARTBEAT_MS:-none}"; echo READY=1 >&"$KEEPALIVE_NOTIFY_FD"';
  const moved = await runKeepalive([
    '-v',
    '--notify-fd',
    '7',
    '--heartbeat',
    '4s',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    script,
  ]);
  t.is(moved.stdout, 'fd=7 ms=4000\n');
  t.regex(moved.stderr, /is ready \(READY=1 after [\d.]+m?s\)/);
  // Without --heartbeat the variable is absent, even when keepalive itself runs under a watchdog.
  const plain = await runKeepalive(['--restart', 'never', '--', 'sh', '-c', script], {
    env: { KEEPALIVE_HEARTBEAT_MS: '999' },
  });
  t.is(plain.stdout, 'fd=3 ms=none\n');
});
