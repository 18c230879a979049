// OOM kills: for real, in a memory cgroup with a small limit, and through the injected counter.
import test from 'ava';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { supervise, type ExitEvent, type SpawnEvent } from '../../src/index.js';
import { oomCounter, oomCounterFile, parseOomKills } from '../../src/exit/oom.js';
import { Keepalive } from '../helpers/keepalive.js';
import { eventually } from '../helpers/proc.js';

test('the counter file is the first candidate that exists, under the mount of each hierarchy', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'keepalive-cgroup-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'v2', 'app.slice'), { recursive: true });
  writeFileSync(
    join(root, 'v2', 'app.slice', 'memory.events'),
    'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
  );
  const v2 = `30 23 0:26 / ${root}/v2 rw,nosuid - cgroup2 cgroup2 rw\n`;
  t.is(oomCounterFile(v2, '0::/app.slice\n'), join(root, 'v2', 'app.slice', 'memory.events'));
  t.is(oomCounterFile(v2, '0::/other.slice\n'), undefined);
  // A container's own v1 memory cgroup, mounted from the host path that /proc/self/cgroup names.
  mkdirSync(join(root, 'memory'));
  writeFileSync(
    join(root, 'memory', 'memory.oom_control'),
    'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
  );
  const v1 = `88 84 0:32 /docker/abc ${root}/memory ro,nosuid - cgroup cgroup rw,memory\n`;
  t.is(
    oomCounterFile(v1, '4:memory:/docker/abc\n0::/\n'),
    join(root, 'memory', 'memory.oom_control'),
  );
  t.is(oomCounterFile(v1, '1:cpu:/\n'), undefined);
  t.is(parseOomKills('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n'), 2);
  t.is(parseOomKills('nothing'), undefined);
  t.is(oomCounter(undefined)(), undefined);
  t.is(oomCounter(join(root, 'memory', 'memory.oom_control'))(), 2);
});

test("this machine's own counter is found and readable", (t) => {
  const file = oomCounterFile(
    readFileSync('/proc/self/mountinfo', 'utf8'),
    readFileSync('/proc/self/cgroup', 'utf8'),
  );
  t.truthy(file, 'no memory.events or memory.oom_control found for this process');
  t.is(typeof oomCounter(file)(), 'number');
});

test('a SIGKILL while the OOM count rose is "oom-killed"; any other SIGKILL is "killed"', async (t) => {
  let oomKills = 0;
  const supervisor = supervise(
    { command: 'sleep', args: ['1000'], delay: 0 },
    { oomKills: () => oomKills },
  );
  const [first] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  oomKills += 1; // what the kernel would count as it kills the child
  process.kill(first.pid, 'SIGKILL');
  const [oomExit] = (await once(supervisor, 'exit')) as [ExitEvent];
  const [second] = (await once(supervisor, 'spawn')) as [SpawnEvent];
  process.kill(second.pid, 'SIGKILL');
  const [plainExit] = (await once(supervisor, 'exit')) as [ExitEvent];
  supervisor.stop();
  await supervisor.done;
  t.deepEqual(oomExit.outcome, { kind: 'oom-killed' });
  t.is(oomExit.status, 137);
  t.deepEqual(plainExit.outcome, { kind: 'killed', signal: 'SIGKILL' });
});

const MEMORY_V1 = '/sys/fs/cgroup/memory';

test('a child the kernel OOM-kills for real is told as oom-killed, status 137', async (t) => {
  if (!existsSync(MEMORY_V1)) {
    t.fail(
      `no cgroup v1 memory hierarchy at ${MEMORY_V1}: the real OOM test needs one (root, and a kernel that offers it)`,
    );
    return;
  }
  const cgroup = join(MEMORY_V1, `keepalive-oom-test-${process.pid}`);
  mkdirSync(cgroup);
  t.teardown(() =>
    eventually('the test cgroup to empty', () => tryRmdir(cgroup), 10_000).catch(() => {}),
  );
  writeFileSync(join(cgroup, 'memory.limit_in_bytes'), String(256 * 1024 * 1024));
  // keepalive joins the cgroup first, so the child it starts is born there.
  const hog = 'const held = []; for (;;) held.push(Buffer.alloc(16 * 1024 * 1024, 1));';
  const keepalive = new Keepalive(['--restart', 'never', '--', 'node', '-e', hog], {
    wrapper: ['sh', '-c', `echo $$ > ${join(cgroup, 'cgroup.procs')} && exec "$@"`, 'sh'],
  });
  const ended = await keepalive.ended;
  t.is(ended.status, 137, keepalive.stderr.text);
  t.regex(
    keepalive.stderr.text,
    /node\[\d+\] oom-killed: out of memory, the kernel's OOM killer sent SIGKILL, status 137/,
  );
});

function tryRmdir(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch {
    return false;
  }
}
