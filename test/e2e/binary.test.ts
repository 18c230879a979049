// The single executable (npm run build:binary), built once for this file into a temporary
// directory and run from there: no node_modules near it, no node on PATH (a directory holding only
// sh and sleep), and in a container whose root has no node at all.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chownSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { fixture, Keepalive } from '../helpers/keepalive.js';
import { Container, podmanMissing, removeLeftoverContainers } from '../helpers/podman.js';
import { childrenOf, eventually, processState, running } from '../helpers/proc.js';
import { assembleRootfs, processExists, type Rootfs } from '../helpers/rootfs.js';

const BUILD = fileURLToPath(new URL('../../../scripts/build-binary.mjs', import.meta.url));
const UNSHARE_FLAGS = ['--pid', '--fork', '--mount-proc'];

let home = '';
let binary = '';
let buildStderr = '';
let rootfs: Rootfs | undefined;

test.before(async () => {
  home = mkdtempSync(join(tmpdir(), 'keepalive-binary-'));
  binary = join(home, 'keepalive');
  const build = spawn(process.execPath, [BUILD, binary], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  build.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [status] = (await once(build, 'close')) as [number | null];
  if (status !== 0) throw new Error(`npm run build:binary failed (status ${status}):\n${stderr}`);
  buildStderr = stderr;
  // The only programs on PATH: what the children below run.
  for (const program of ['sh', 'sleep']) symlinkSync(which(program), join(home, program));
  copyFileSync(fixture('orphans.sh'), join(home, 'orphans.sh'));
  const missing = podmanMissing();
  if (missing !== undefined) throw new Error(`the container case cannot run: ${missing}`);
  await removeLeftoverContainers();
  rootfs = assembleRootfs({
    node: false,
    programs: { keepalive: binary, 'usr/bin/orphans.sh': fixture('orphans.sh') },
  });
});

test.after.always(() => {
  rootfs?.remove();
  if (home) rmSync(home, { recursive: true, force: true });
});

function which(program: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], {
    encoding: 'utf8',
  }).stdout.trim();
  if (!found.startsWith('/')) throw new Error(`no ${program} on PATH`);
  return found;
}

/** The executable from its own directory, with a PATH on which there is no node. */
function keepalive(args: readonly string[], wrapper?: readonly string[]): Keepalive {
  return new Keepalive(args, {
    command: [binary],
    cwd: home,
    env: { PATH: home, NODE_OPTIONS: undefined },
    ...(wrapper ? { wrapper } : {}),
  });
}

async function run(
  args: readonly string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const started = keepalive(args);
  const { status } = await started.ended;
  return { status, stdout: started.stdout.text, stderr: started.stderr.text };
}

/** Processes running this very executable. */
const copies = (): number[] =>
  running()
    .filter(({ pid }) => exeOf(pid) === binary)
    .map(({ pid }) => pid);

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

test("building it prints no warning (postject's about note sections' names are left out)", (t) => {
  t.is(buildStderr, '');
});

test('there is no node on the PATH the executable runs with', (t) => {
  const probe = spawnSync('sh', ['-c', 'command -v node || echo none'], {
    env: { PATH: home },
    encoding: 'utf8',
  });
  t.is(probe.stdout.trim(), 'none');
});

test('the executable passes an exit status through: sh -c "exit 3" -> 3', async (t) => {
  const ended = await run(['--max-restarts', '0', '--', 'sh', '-c', 'exit 3']);
  t.is(ended.status, 3, ended.stderr);
  t.regex(ended.stderr, /sh\[\d+\] exited with code 3; giving up: 1 failures in 1m/);
});

test('the executable tells a SIGKILLed child: status 137', async (t) => {
  const ended = await run(['--restart', 'never', '--', 'sh', '-c', 'kill -9 $$']);
  t.is(ended.status, 137, ended.stderr);
  t.regex(ended.stderr, /sh\[\d+\] killed: SIGKILL \(Forced termination\), status 137/);
});

test('the executable prints its version and its help without a package.json beside it', async (t) => {
  const version = await run(['--version']);
  t.is(version.status, 0, version.stderr);
  t.regex(version.stdout, /^\d+\.\d+\.\d+/);
  const help = await run(['--help']);
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /Documentation: the README of the keepalive-supervisor package/);
});

// Serial (ava runs it before the others): it counts, and kills at the end, every process of the
// executable, which the other tests of this file would otherwise be running at the same time.
test.serial(
  'the executable: --detach --pidfile starts one background copy; status, restart and stop act on it',
  async (t) => {
    const pidfile = join(home, 'app.pid');
    t.teardown(() => {
      for (const pid of copies()) process.kill(pid, 'SIGKILL');
    });
    const started = await run(['--pidfile', pidfile, '--detach', '--', 'sleep', '1000']);
    t.is(started.status, 0, started.stderr);
    const status = await run(['status', '--pidfile', pidfile]);
    t.is(status.status, 0, status.stderr);
    const [, supervisor, child] =
      /running: keepalive\[(\d+)\][^]*child: sleep\[(\d+)\]/.exec(status.stdout) ?? [];
    t.truthy(supervisor, status.stdout);
    // The background copy is this executable, once (a re-executed argv[1] would start copy after
    // copy).
    t.deepEqual(copies(), [Number(supervisor)]);
    const restarted = await run(['restart', '--pidfile', pidfile]);
    t.is(restarted.status, 0, restarted.stderr);
    t.regex(
      restarted.stdout + restarted.stderr,
      new RegExp(`restarted: sleep\\[\\d+\\] \\(was sleep\\[${child}\\]\\)`),
    );
    const stopped = await run(['stop', '--pidfile', pidfile]);
    t.is(stopped.status, 0, stopped.stderr);
    await eventually(
      'the background keepalive to end',
      () => !processExists(Number(supervisor)) || processState(Number(supervisor)) === 'Z',
    );
    t.deepEqual(
      copies().filter((pid) => processState(pid) !== 'Z'),
      [],
    );
  },
);

test('the executable as PID 1 of a PID namespace reaps orphaned zombies', async (t) => {
  const unshare = keepalive(
    ['-v', '--', 'sh', join(home, 'orphans.sh'), '20'],
    [which('unshare'), ...UNSHARE_FLAGS],
  );
  await unshare.stdout.next(/^orphaned 20$/);
  let pid1: number | undefined;
  await eventually(
    'unshare to fork keepalive',
    () => (pid1 = childrenOf(unshare.pid)[0]) !== undefined,
  );
  await eventually(
    '20 orphans to be reaped',
    () =>
      unshare.stderr.all.filter((line) => /reaped orphan \d+ \(exited with code 0\)/.test(line))
        .length >= 20,
  );
  t.deepEqual(
    childrenOf(pid1 as number).filter((pid) => processState(pid) === 'Z'),
    [],
  );
  process.kill(pid1 as number, 'SIGTERM');
  t.is((await unshare.ended).status, 143, unshare.stderr.text);
});

test('the executable is PID 1 of a container with no node in it, passes the status through and reaps orphans', async (t) => {
  if (rootfs === undefined) throw new Error('no root filesystem');
  const box = new Container(
    rootfs,
    [
      '-v',
      '--restart',
      'never',
      '--',
      'sh',
      '-c',
      'command -v node || echo no node here; sh /usr/bin/orphans.sh 10 0; sleep 1; exit 7',
    ],
    { command: ['/keepalive'] },
  );
  t.teardown(() => box.remove());
  const ended = await box.end(60_000);
  t.is(ended.status, 7, box.stderr.text);
  t.true(box.stdout.all.includes('no node here'), box.stdout.text);
  t.regex(box.stderr.text, /sh\[\d+\] exited with code 7; not restarting/);
  t.is(
    box.stderr.all.filter((line) => /reaped orphan \d+ \(exited with code 0\)/.test(line)).length,
    10,
    box.stderr.text,
  );
});

/**
 * Whether keepalive wrote its native part under `dir` (given as $XDG_RUNTIME_DIR, its first
 * choice): the directory it makes there is removed at once, but the parent's mtime says it was.
 */
async function extractedUnder(dir: string): Promise<boolean> {
  const past = new Date(Date.now() - 3600_000);
  utimesSync(dir, past, past);
  const started = new Keepalive(['--max-restarts', '0', '--', 'sh', '-c', 'exit 3'], {
    command: [binary],
    cwd: home,
    env: { PATH: home, XDG_RUNTIME_DIR: dir },
  });
  const { status } = await started.ended;
  if (status !== 3) throw new Error(`keepalive ended with ${status}: ${started.stderr.text}`);
  return statSync(dir).mtimeMs > past.getTime() + 1000;
}

test("the executable writes its native part only where no other user can swap it: not in another user's $XDG_RUNTIME_DIR", async (t) => {
  const ours = join(home, 'runtime-root');
  mkdirSync(ours, { mode: 0o700 });
  t.true(await extractedUnder(ours), "a private directory of root's is used");
  // Another user's runtime directory (sudo may keep XDG_RUNTIME_DIR): that user could rename
  // keepalive's directory there and put one of their own in its place. nobody is 65534 here.
  const theirs = join(home, 'runtime-nobody');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, 65534, 65534);
  t.false(await extractedUnder(theirs), "another user's directory is passed over");
});
