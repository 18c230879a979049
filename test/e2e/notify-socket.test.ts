// Programs written for systemd, unchanged, under keepalive: $NOTIFY_SOCKET, $WATCHDOG_USEC and
// NotifyAccess, driven by clients nobody here wrote (systemd-notify, python3-systemd, libsystemd).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { fixture, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { childrenOf, eventually, processState, rssKiB } from '../helpers/proc.js';

const run = promisify(execFile);
/** Debian's python3-systemd is installed for the system's python, not for one on PATH. */
const PYTHON = '/usr/bin/python3';

test('systemd-notify: READY=1, STATUS= and WATCHDOG=1 keep a --heartbeat child alive', async (t) => {
  const script =
    'systemd-notify --ready --status="serving" || exit 9; for i in 1 2 3 4 5 6; do sleep 0.25; systemd-notify WATCHDOG=1 || exit 9; done';
  const result = await runKeepalive([
    '-v',
    '--heartbeat',
    '1s',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    script,
  ]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stderr, /is ready \(READY=1 after \d+ms\)/);
  t.regex(result.stderr, /status: serving/);
  t.notRegex(result.stderr, /hung|dropped/);
});

test('EXTEND_TIMEOUT_USEC and WATCHDOG=trigger work on the socket as on the pipe', async (t) => {
  const extended = await runKeepalive([
    '-v',
    '--heartbeat',
    '500ms',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'systemd-notify EXTEND_TIMEOUT_USEC=3000000 || exit 9; sleep 1.5',
  ]);
  t.is(extended.status, 0, extended.stderr);
  t.regex(
    extended.stderr,
    /extended its deadline: next heartbeat due in 3s \(EXTEND_TIMEOUT_USEC\)/,
  );
  const triggered = await runKeepalive([
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'systemd-notify WATCHDOG=trigger; sleep 10',
  ]);
  t.regex(triggered.stderr, /hung: it sent WATCHDOG=trigger; sending SIGKILL/);
  t.is(triggered.status, 137, triggered.stderr);
});

test("python3-systemd's daemon.notify reaches keepalive", async (t) => {
  const result = await runKeepalive([
    '-v',
    '--restart',
    'never',
    '--',
    PYTHON,
    fixture('sd-notify.py'),
    'notify',
    'from python',
  ]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stderr, /is ready/);
  t.regex(result.stderr, /status: from python/);
});

test('libsystemd: sd_watchdog_enabled() sees WATCHDOG_USEC from --heartbeat, and sd_notify pings keep the child alive', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-sd-'));
  try {
    const program = join(dir, 'sd-watchdog');
    await run('gcc', ['-o', program, fixture('sd-watchdog.c'), '-lsystemd']);
    const result = await runKeepalive([
      '-v',
      '--heartbeat',
      '400ms',
      '--restart',
      'never',
      '--',
      program,
      '8',
    ]);
    t.is(result.status, 0, result.stderr);
    t.is(result.stdout, 'watchdog 1 400000\n');
    t.regex(result.stderr, /status: pinging through libsystemd/);
    t.notRegex(result.stderr, /hung/);
    // The same program, silent: the watchdog it was told about holds it to it.
    const silent = await runKeepalive([
      '--heartbeat',
      '400ms',
      '--restart',
      'never',
      '--',
      program,
      '0',
    ]);
    t.regex(silent.stderr, /hung: no heartbeat for 4\d\dms/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("keepalive's own NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID never reach the child", async (t) => {
  const env = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '5000000', WATCHDOG_PID: '1' };
  const show =
    'echo "socket=${NOTIFY_SOCKET-unset} usec=${WATCHDOG_USEC-unset} pid=${WATCHDOG_PID-unset}"';
  const plain = await runKeepalive(['--restart', 'never', '--', 'sh', '-c', show], { env });
  t.regex(
    plain.stdout,
    /^socket=@keepalive\/\d+\/[0-9a-z]+-[0-9a-z]+-[0-9a-z]+ usec=unset pid=unset\n$/,
  );
  const watched = await runKeepalive(
    ['--heartbeat', '2s', '--restart', 'never', '--', 'sh', '-c', show],
    { env },
  );
  t.regex(
    watched.stdout,
    /^socket=@keepalive\/\d+\/[0-9a-z]+-[0-9a-z]+-[0-9a-z]+ usec=2000000 pid=unset\n$/,
  );
  const none = await runKeepalive(
    ['--notify-access', 'none', '--heartbeat', '2s', '--restart', 'never', '--', 'sh', '-c', show],
    { env },
  );
  t.is(none.stdout, 'socket=unset usec=unset pid=unset\n');
});

test("a sender outside the child's tree is dropped and counted; --notify-access main drops the child's children", async (t) => {
  const keepalive = new Keepalive([
    '-v',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo "$NOTIFY_SOCKET"; exec sleep 60',
  ]);
  try {
    const [address] = await keepalive.stdout.next(/^@keepalive\/.*$/);
    // The test's own systemd-notify: a process of no run.
    await run('systemd-notify', ['--status=intruder'], {
      env: { ...process.env, NOTIFY_SOCKET: address },
    });
    await keepalive.stderr.next(
      /dropped 1 notify line: 1 from a process --notify-access does not allow/,
    );
    t.false(keepalive.stderr.text.includes('intruder'));
  } finally {
    keepalive.signal('SIGTERM');
    await keepalive.ended;
  }
  // python is a child of sh, not the child itself.
  const script = `${PYTHON} ${fixture('sd-notify.py')} notify grandchild; sleep 0.2`;
  const main = await runKeepalive([
    '-v',
    '--notify-access',
    'main',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    script,
  ]);
  t.regex(main.stderr, /dropped 1 notify line: 1 from a process --notify-access does not allow/);
  t.notRegex(main.stderr, /status: grandchild/);
  // Under all, a grandchild's datagram is taken. systemd-notify waits for its barrier, so it is
  // still alive when its place in the tree is read; python's notify does not wait (see the README).
  const all = await runKeepalive([
    '-v',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'systemd-notify --status=grandchild; sleep 0.2',
  ]);
  t.regex(all.stderr, /status: grandchild/);
});

test('file descriptors sent on the socket (FDSTORE=1) are all closed, never kept', async (t) => {
  const keepalive = new Keepalive([
    '-v',
    '--restart',
    'never',
    '--',
    PYTHON,
    fixture('sd-notify.py'),
    'fds',
  ]);
  const ended = await keepalive.ended;
  t.is(ended.status, 0, keepalive.stderr.text);
  t.is(keepalive.stdout.text, 'closed\n');
  t.regex(keepalive.stderr.text, /status: sent fds/);
});

test('the RSS sampler takes a gone process or a zombie as no sample, not an error', async (t) => {
  // The background sleep ends at once; its parent execs a sleep that never reaps it: a zombie.
  const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 1000'], { stdio: 'ignore' });
  t.teardown(() => parent.kill('SIGKILL'));
  const zombie = await eventually('a zombie child', () =>
    childrenOf(parent.pid as number).find((pid) => processState(pid) === 'Z'),
  );
  t.true((rssKiB(parent.pid as number) ?? 0) > 0);
  t.is(rssKiB(zombie), undefined);
  parent.kill('SIGKILL');
  await once(parent, 'exit');
  t.is(rssKiB(parent.pid as number), undefined);
});

test('a flood of datagrams: keepalive stays small and the hang verdict comes on time', async (t) => {
  const keepalive = new Keepalive([
    '--log-format',
    'json',
    '--heartbeat',
    '300ms',
    '--heartbeat-grace',
    '4s',
    '--restart',
    'never',
    '--',
    PYTHON,
    fixture('sd-notify.py'),
    'flood',
  ]);
  const samples: number[] = [];
  let sample: NodeJS.Timeout | undefined;
  try {
    sample = setInterval(() => {
      const rss = rssKiB(keepalive.pid);
      if (rss !== undefined) samples.push(rss);
    }, 50);
    const [line] = await keepalive.stderr.next(/^\{.*"event":"hang".*$/);
    clearInterval(sample);
    const hang = JSON.parse(line) as { silentMs: number };
    t.log(
      `silent for ${hang.silentMs}ms; keepalive RSS ${Math.min(...samples)}-${Math.max(...samples)} KiB`,
    );
    // The grace is 4s: the verdict comes once it is over, not after the flood.
    t.true(hang.silentMs >= 4000 && hang.silentMs < 4500, `silent for ${hang.silentMs}ms`);
    // Flat once warm: the last two seconds of flood grow keepalive by no more than a few MiB.
    const warm = samples.slice(-40, -20);
    const late = samples.slice(-20);
    t.true(Math.max(...late) - Math.max(...warm) < 8_000, `RSS ${samples.join(' ')}`);
    const dropped = keepalive.stderr.all.find((text) => text.includes('"event":"dropped"'));
    t.truthy(dropped);
  } finally {
    clearInterval(sample);
    keepalive.signal('SIGKILL');
    await keepalive.ended;
  }
});
