// Runs, hooks and probes in cgroups of their own: a process that clears its environment and leaves
// its session (`env -i setsid`) is still found by the cgroup it cannot leave, ended with what
// started it, and never taken for another's. Each test runs on cgroup v2 (cgroup.kill) and v1 (the
// freezer), picked with KEEPALIVE_CGROUPS; without a cgroup keepalive may make (non-root), the
// environment mark still ends what does not clear it. Every cgroup made is gone after the end.
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { alive, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { eventually, killMarked, processState, running, uniqueMarker } from '../helpers/proc.js';

const IS_ROOT = process.getuid?.() === 0;

/** The test's own cgroup of that kind: the mount (mountinfo), the path (/proc/self/cgroup). */
function homeOf(kind: 'v2' | 'v1'): string | undefined {
  const mount = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .find((fields) =>
      kind === 'v2'
        ? fields.includes('cgroup2')
        : fields.includes('cgroup') && (fields.at(-1) ?? '').split(',').includes('freezer'),
    );
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => (kind === 'v2' ? entry.startsWith('0::') : /^\d+:freezer:/.test(entry)));
  if (mount?.[4] === undefined || line === undefined || mount[3] !== '/') return undefined;
  const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).replace(/\/$/, '');
  return `${mount[4]}${path}`;
}

/** Live processes with the marker as an argument of its own (zombies excluded). */
const marked = (marker: string): number[] =>
  running()
    .filter((process_) => process_.argv.includes(marker))
    .map((process_) => process_.pid);

/** killMarked, and the daemons: `sh -c 'sleep M &'` under setsid leads no session of its own. */
function endMarked(marker: string): void {
  killMarked(marker);
  for (const pid of marked(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/** The keepalive-PID directory of that keepalive under the test's own cgroup, if there is one. */
function groupsOf(kind: 'v2' | 'v1', pid: number): string[] {
  const home = homeOf(kind);
  return home !== undefined && existsSync(`${home}/keepalive-${pid}`)
    ? [`${home}/keepalive-${pid}`]
    : [];
}

/** A daemon as `su -` or a careless init script makes one: no environment, a session of its own. */
const escapingDaemon = (marker: string): string =>
  `env -i setsid sh -c 'sleep ${marker} &' </dev/null >/dev/null 2>&1`;

for (const kind of ['v2', 'v1'] as const) {
  const home = homeOf(kind);
  // Root and the hierarchy mounted: keepalive must make its cgroups (the tests check it did).
  const usable = IS_ROOT && home !== undefined;
  const env = { KEEPALIVE_CGROUPS: kind };

  const hookTitle = `${kind}: a hook's env -i setsid daemon: not the child's, ends with keepalive`;
  test(hookTitle, async (t) => {
    if (!usable) return t.pass(`no ${kind} hierarchy here, or not root`);
    const marker = uniqueMarker();
    t.teardown(() => endMarked(marker));
    const keepalive = new Keepalive(
      [
        '--delay',
        '0',
        '--max-restarts',
        '2',
        '--kill-timeout',
        '20s',
        '--on-exit',
        escapingDaemon(marker),
        '--',
        'sh',
        '-c',
        'sleep 0.5; exit 1',
      ],
      { env },
    );
    t.teardown(() => keepalive.signal('SIGKILL'));
    const ended = await keepalive.ended;
    t.is(ended.status, 1);
    t.notRegex(keepalive.stderr.text, /left \d+ process/);
    t.deepEqual(marked(marker), []);
    t.deepEqual(groupsOf(kind, keepalive.pid), []);
  });

  test(`${kind}: a child's env -i setsid daemon ends with a stop (--no-subreaper)`, async (t) => {
    if (!usable) return t.pass(`no ${kind} hierarchy here, or not root`);
    const marker = uniqueMarker();
    t.teardown(() => endMarked(marker));
    const keepalive = new Keepalive(
      [
        '--no-subreaper',
        '--kill-timeout',
        '20s',
        '--',
        'sh',
        '-c',
        `${escapingDaemon(marker)}; exec sleep 600`,
      ],
      { env },
    );
    t.teardown(() => keepalive.signal('SIGKILL'));
    await keepalive.childPid();
    await eventually('the daemon to run', () => marked(marker).length === 1);
    t.is(groupsOf(kind, keepalive.pid).length, 1, 'keepalive made its cgroup');
    keepalive.signal('SIGTERM');
    t.is((await keepalive.ended).status, 143);
    t.deepEqual(marked(marker), []);
    t.deepEqual(groupsOf(kind, keepalive.pid), [], 'every cgroup it made is gone');
  });

  const probeTitle = `${kind}: a probe's env -i setsid daemon ends with the probe (--no-subreaper)`;
  test(probeTitle, async (t) => {
    if (!usable) return t.pass(`no ${kind} hierarchy here, or not root`);
    const marker = uniqueMarker();
    t.teardown(() => endMarked(marker));
    const keepalive = new Keepalive(
      [
        '--no-subreaper',
        '--restart',
        'never',
        '--health-cmd',
        escapingDaemon(marker),
        '--health-interval',
        '100ms',
        '--',
        'sh',
        '-c',
        'sleep 1.5; exit 0',
      ],
      { env },
    );
    t.teardown(() => keepalive.signal('SIGKILL'));
    const ended = await keepalive.ended;
    t.is(ended.status, 0, keepalive.stderr.text);
    t.deepEqual(marked(marker), []);
    t.deepEqual(groupsOf(kind, keepalive.pid), []);
  });

  const killTitle = `${kind}: a killed keepalive's cgroups: the next keepalive removes empty ones`;
  test(killTitle, async (t) => {
    if (!usable) return t.pass(`no ${kind} hierarchy here, or not root`);
    const marker = uniqueMarker();
    t.teardown(() => endMarked(marker));
    const killed = new Keepalive(['--', 'sleep', marker], { env });
    t.teardown(() => killed.signal('SIGKILL'));
    const child = await killed.childPid();
    const [group] = groupsOf(kind, killed.pid);
    t.truthy(group);
    killed.signal('SIGKILL');
    // Not `ended`: the child holds keepalive's stderr open.
    await eventually(
      'keepalive to be gone',
      () => !alive(killed.pid) || processState(killed.pid) === 'Z',
    );
    // The child lives on, in its run's cgroup (the next keepalive of its pidfile stops it).
    t.true(readFileSync(`${group}/run-1/cgroup.procs`, 'utf8').split('\n').includes(String(child)));
    process.kill(child, 'SIGKILL');
    await eventually('the child to end', () => marked(marker).length === 0);
    await killed.ended;
    const next = await runKeepalive(['--restart', 'never', '--', 'true'], { env });
    t.is(next.status, 0);
    await eventually('the abandoned cgroups to be removed', () => !existsSync(group as string));
  });

  const pidfileTitle = `${kind}: the next keepalive of a --pidfile stops a killed one's daemon`;
  test(pidfileTitle, async (t) => {
    if (!usable) return t.pass(`no ${kind} hierarchy here, or not root`);
    const marker = uniqueMarker();
    t.teardown(() => endMarked(marker));
    const directory = mkdtempSync(join(tmpdir(), 'keepalive-cgroups-'));
    t.teardown(() => rmSync(directory, { recursive: true, force: true }));
    const pidfile = join(directory, 'app.pid');
    const killed = new Keepalive(
      ['--pidfile', pidfile, '--', 'sh', '-c', `${escapingDaemon(marker)}; exec sleep 600`],
      { env },
    );
    t.teardown(() => killed.signal('SIGKILL'));
    await killed.childPid();
    await eventually('the daemon to run', () => marked(marker).length === 1);
    killed.signal('SIGKILL');
    await once(killed.process, 'exit'); // not 'close': the child still holds keepalive's stderr
    const next = new Keepalive(['--pidfile', pidfile, '--restart', 'never', '--', 'true'], { env });
    t.teardown(() => next.signal('SIGKILL'));
    t.is((await next.ended).status, 0, next.stderr.text);
    t.regex(next.stderr.text, /taking over|left running by a keepalive that was killed/);
    t.deepEqual(marked(marker), [], 'the daemon went with the old child');
    t.deepEqual(groupsOf(kind, killed.pid), [], 'and the old cgroups with them');
  });
}

test('without a cgroup keepalive may make (non-root), the environment mark works', async (t) => {
  if (!IS_ROOT) return t.pass('needs root to become another user');
  const marker = uniqueMarker();
  t.teardown(() => endMarked(marker));
  // nobody may not write any cgroup: keepalive falls back to the mark (a hook's daemon that keeps
  // its environment ends with keepalive) and to the subreaper (the child's daemon ends with a
  // stop).
  const keepalive = new Keepalive(
    [
      '--restart',
      'never',
      '--kill-timeout',
      '20s',
      '--on-exit',
      `setsid sh -c 'sleep ${marker} &' </dev/null >/dev/null 2>&1`,
      '--',
      'sh',
      '-c',
      `setsid sh -c 'sleep ${marker} &'; exec sleep 600`,
    ],
    { wrapper: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], cwd: '/' },
  );
  t.teardown(() => keepalive.signal('SIGKILL'));
  await keepalive.childPid();
  await eventually('the daemon to run', () => marked(marker).length === 1);
  t.deepEqual([...groupsOf('v2', keepalive.pid), ...groupsOf('v1', keepalive.pid)], []);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143, keepalive.stderr.text);
  t.deepEqual(marked(marker), []);
});

test('KEEPALIVE_CGROUPS=off makes no cgroup', async (t) => {
  const result = new Keepalive(['--restart', 'never', '--', 'sleep', '1'], {
    env: { KEEPALIVE_CGROUPS: 'off' },
  });
  t.teardown(() => result.signal('SIGKILL'));
  await result.childPid();
  t.deepEqual([...groupsOf('v2', result.pid), ...groupsOf('v1', result.pid)], []);
  t.is((await result.ended).status, 0);
});
