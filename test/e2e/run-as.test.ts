// --user and --group, for real: a throwaway user and group made for the run (useradd, groupadd),
// removed at its end, and the installed keepalive run as root (and once as that user).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { DIE_WITH_TEST, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { workspace } from '../helpers/proc.js';

const SUFFIX = Math.floor(Math.random() * 1e6);
const USER = `karun${SUFFIX}`;
const GROUP = `karung${SUFFIX}`;
const COMMENT = 'keepalive run-as test user of pid ';
let uid = -1;
let gid = -1;
let extraGid = -1;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function removeAccounts(user: string, group: string): void {
  spawnSync('pkill', ['-KILL', '-u', user]); // by user id: only what the throwaway user runs
  spawnSync('userdel', ['-r', user], { stdio: 'ignore' });
  spawnSync('groupdel', [group], { stdio: 'ignore' });
}

test.before(() => {
  // Accounts an earlier run could not remove (its worker was killed): known by the comment.
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const [name, , , , comment] = line.split(':');
    const owner = comment?.startsWith(COMMENT) ? Number(comment.slice(COMMENT.length)) : undefined;
    if (name && owner !== undefined && !alive(owner))
      removeAccounts(name, name.replace(/^karun/, 'karung'));
  }
  execFileSync('groupadd', [GROUP]);
  execFileSync('useradd', [
    '--create-home',
    '--shell',
    '/bin/sh',
    '--groups',
    GROUP,
    '--comment',
    `${COMMENT}${process.pid}`,
    USER,
  ]);
  const id = (flag: string, name = USER): number =>
    Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  uid = id('-u');
  gid = id('-g');
  extraGid = Number(execFileSync('getent', ['group', GROUP], { encoding: 'utf8' }).split(':')[2]);
  process.once('exit', () => removeAccounts(USER, GROUP)); // also when the worker is ended early
});
test.after.always(() => removeAccounts(USER, GROUP));

/** keepalive to its end, SIGKILLed (and the test failed) if it takes longer than 30 s. */
async function runToEnd(
  args: readonly string[],
  options?: ConstructorParameters<typeof Keepalive>[1],
): Promise<{ status: number | null; signal: string | null; stderr: string; stdout: string }> {
  const keepalive = new Keepalive(args, options);
  const timer = setTimeout(() => keepalive.signal('SIGKILL'), 30_000);
  const ended = await keepalive.ended;
  clearTimeout(timer);
  return { ...ended, stderr: keepalive.stderr.text, stdout: keepalive.stdout.text };
}

test("the child has the user's uid, gid, groups, HOME, USER, LOGNAME and SHELL", async (t) => {
  const result = await runToEnd([
    '--user',
    USER,
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo "$(id -u) $(id -g) $(id -G) $HOME $USER $LOGNAME $SHELL"',
  ]);
  t.is(result.status, 0, result.stderr);
  const [seenUid, seenGid, ...rest] = result.stdout.trim().split(' ');
  t.is(Number(seenUid), uid);
  t.is(Number(seenGid), gid);
  const groups = rest.slice(0, -4).map(Number).sort();
  t.deepEqual(groups, [gid, extraGid].sort());
  t.deepEqual(rest.slice(-4), [`/home/${USER}`, USER, USER, '/bin/sh']);
});

test('--group gives the command that primary group, the user keeps its own others', async (t) => {
  const result = await runToEnd([
    '--user',
    String(uid),
    '--group',
    GROUP,
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo "$(id -u) $(id -g) $USER"',
  ]);
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout.trim(), `${uid} ${extraGid} ${USER}`);
});

test('a uid the password database lacks runs with --group, without HOME or USER', async (t) => {
  const result = await runToEnd([
    '--user',
    '54329',
    '--group',
    '54329',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo "$(id -u) $(id -g) $(id -G) ${HOME-none} ${USER-none}"',
  ]);
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout.trim(), '54329 54329 54329 none none');
});

test("exit codes and signals of the other user's child are exact", async (t) => {
  const code = await runToEnd(['--user', USER, '--restart', 'never', '--', 'sh', '-c', 'exit 127']);
  t.is(code.status, 127);
  t.regex(code.stderr, /exited with code 127; not restarting/);
  const signal = await runToEnd([
    '--user',
    USER,
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'kill -RTMIN+3 $$',
  ]);
  t.is(signal.status, 128 + 37);
  t.regex(signal.stderr, /killed: SIGRTMIN\+3/);
});

test('a command the user cannot find or run is "not started", 127 and 126', async (t) => {
  // A PATH the user may search all of: a directory of root's on it would be EACCES, 126.
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };
  const missing = await runToEnd(['--user', USER, '--', 'no-such-command-runas'], { env });
  t.is(missing.status, 127);
  t.regex(missing.stderr, /not started: command not found: no-such-command-runas, status 127/);
  t.notRegex(missing.stderr, /\] started/);
  // Root may read and run it (an x bit for root's group); the user may not.
  const dir = workspace(t, `runas${SUFFIX}`);
  chmodSync(dir, 0o755);
  const script = join(dir, 'root-only.sh');
  writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o710 });
  const denied = await runToEnd(['--user', USER, '--', script]);
  t.is(denied.status, 126);
  t.regex(denied.stderr, /not started: .*root-only\.sh is not executable \(EACCES\), status 126/);
});

test('READY=1 and WATCHDOG=1 reach keepalive from the other user, socket and pipe', async (t) => {
  // systemd-notify, as a program written for systemd would; WATCHDOG=1 on the pipe.
  const beats =
    'systemd-notify --ready || exit 9; ' +
    'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo WATCHDOG=1 >&3; sleep 0.25; done; id -u';
  const result = await runToEnd([
    '-v',
    '--user',
    USER,
    '--heartbeat',
    '1s',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    beats,
  ]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stderr, /is ready \(READY=1 after/);
  t.notRegex(result.stderr, /hung/);
  t.is(result.stdout.trim(), String(uid));
});

test('the health command runs as the user; so does the on-exit hook', async (t) => {
  const dir = workspace(t, `runash${SUFFIX}`);
  chmodSync(dir, 0o777);
  const result = await runToEnd([
    '--user',
    USER,
    '--health-cmd',
    `id -u > ${dir}/health`,
    '--health-interval',
    '200ms',
    '--on-exit',
    `id -u > ${dir}/hook`,
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    `while [ ! -s ${dir}/health ]; do sleep 0.1; done`,
  ]);
  t.is(result.status, 0, result.stderr);
  t.is(readFileSync(join(dir, 'health'), 'utf8').trim(), String(uid));
  t.is(readFileSync(join(dir, 'hook'), 'utf8').trim(), String(uid));
});

test('an unknown user or group is one line and status 2, before anything starts', async (t) => {
  const user = await runKeepalive(['--user', 'nosuchuser', '--', 'touch', '/nonexistent/x']);
  t.is(user.status, 2);
  t.deepEqual(user.lines, [
    'keepalive: --user "nosuchuser": no such user in the password database',
  ]);
  const group = await runKeepalive(['--user', USER, '--group', 'nosuchgroup', '--', 'true']);
  t.is(group.status, 2);
  t.deepEqual(group.lines, [
    'keepalive: --group "nosuchgroup": no such group in the group database',
  ]);
  const id = await runKeepalive(['--user', '54329', '--', 'true']);
  t.is(id.status, 2);
  t.regex(id.stderr, /--user "54329": no such user in the password database; a uid without/);
});

test('keepalive that is not root refuses --user with one line and status 2', async (t) => {
  const result = await runToEnd(['--user', 'root', '--', 'true'], {
    wrapper: [DIE_WITH_TEST[0] as string, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'],
    env: { HOME: `/home/${USER}` },
  });
  t.is(result.status, 2);
  t.is(
    result.stderr,
    `keepalive: --user "root": keepalive runs as uid ${uid}, not root; only root can run a ` +
      'command as another user\n',
  );
});
