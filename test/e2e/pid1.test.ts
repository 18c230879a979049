// keepalive as PID 1 of a real PID namespace (unshare --pid --fork --mount-proc), and as a
// subreaper.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { API_INDEX, CLI, fixture, Keepalive } from '../helpers/keepalive.js';
import { childrenOf, eventually, processState } from '../helpers/proc.js';

const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc'];

/** The PID 1 tests must run, not skip: if the machine forbids unshare, fail and say why. */

function requireUnshare(t: { fail(message: string): void }): boolean {
  const probe = spawnSync(UNSHARE[0] as string, [...UNSHARE.slice(1), 'true'], {
    encoding: 'utf8',
  });
  if (probe.status === 0) return true;
  t.fail(
    `PID 1 tests cannot run: "${UNSHARE.join(' ')} true" failed (${probe.error?.message ?? probe.stderr.trim()}); run them as root`,
  );
  return false;
}

/** keepalive as PID 1: started by unshare, which forks it into the new namespace. */

function keepaliveAsPid1(args: readonly string[]): Keepalive {
  return new Keepalive(args, { wrapper: UNSHARE });
}

/** The outside pid of unshare's forked child: keepalive, PID 1 inside. */

async function outerPid(unshare: Keepalive): Promise<number> {
  let pid: number | undefined;
  await eventually(
    'unshare to fork keepalive',
    () => (pid = childrenOf(unshare.pid)[0]) !== undefined,
  );
  return pid as number;
}

function zombiesUnder(pid: number): number[] {
  return childrenOf(pid).filter((child) => processState(child) === 'Z');
}

test('as PID 1, SIGTERM stops keepalive and the child: status 143', async (t) => {
  if (!requireUnshare(t)) return;
  const unshare = keepaliveAsPid1(['--', 'sleep', '1000']);
  await unshare.stderr.next(/sleep\[\d+\] started/);
  process.kill(await outerPid(unshare), 'SIGTERM');
  const ended = await unshare.ended;
  t.is(ended.status, 143);
  t.regex(unshare.stderr.text, /sleep\[\d+\] killed: SIGTERM \(Termination\), status 143; stopped/);
});

test('as PID 1, a child that orphans 100 grandchildren leaves no zombies', async (t) => {
  if (!requireUnshare(t)) return;
  const unshare = keepaliveAsPid1(['-v', '--', fixture('orphans.sh'), '100']);
  await unshare.stdout.next(/^orphaned 100$/);
  const keepalivePid = await outerPid(unshare);
  await eventually(
    '100 orphans to be reaped',
    () => unshare.stderr.all.filter((line) => line.includes('reaped orphan')).length >= 100,
  );
  t.deepEqual(zombiesUnder(keepalivePid), []);
  process.kill(keepalivePid, 'SIGTERM');
  const ended = await unshare.ended;
  t.is(ended.status, 143);
  t.is(
    unshare.stderr.all.filter((line) => /reaped orphan \d+ \(exited with code 0\)/.test(line))
      .length,
    100,
  );
});

test("as PID 1, the child's own exit is still classified while orphans are reaped", async (t) => {
  if (!requireUnshare(t)) return;
  const unshare = keepaliveAsPid1([
    '-v',
    '--restart',
    'never',
    '--',
    fixture('orphans.sh'),
    '100',
    '7',
  ]);
  const ended = await unshare.ended;
  t.is(ended.status, 7);
  t.regex(unshare.stderr.text, /orphans\[\d+\] exited with code 7; not restarting/);
});

test('--subreaper reaps orphans outside PID 1 too', async (t) => {
  const keepalive = new Keepalive(['-v', '--subreaper', '--', fixture('orphans.sh'), '50']);
  await keepalive.stdout.next(/^orphaned 50$/);
  await eventually(
    '50 orphans to be reaped',
    () => keepalive.stderr.all.filter((line) => line.includes('reaped orphan')).length >= 50,
  );
  t.deepEqual(zombiesUnder(keepalive.pid), []);
  keepalive.signal('SIGTERM');
  t.is((await keepalive.ended).status, 143);
});

test("with --no-subreaper, outside PID 1, orphans are not keepalive's: nothing is reaped", async (t) => {
  const keepalive = new Keepalive([
    '-v',
    '--no-subreaper',
    '--restart',
    'never',
    '--',
    fixture('orphans.sh'),
    '5',
    '0',
  ]);
  const ended = await keepalive.ended;
  t.is(ended.status, 0);
  t.false(keepalive.stderr.text.includes('reaped orphan'));
});

test('unshare runs keepalive itself', (t) => {
  // Guards the helper: the wrapper really puts keepalive (not a shell) at PID 1.
  const result = spawnSync(
    UNSHARE[0] as string,
    [
      ...UNSHARE.slice(1),
      process.execPath,
      CLI,
      '--restart',
      'never',
      '--',
      'sh',
      '-c',
      'echo $PPID',
    ],
    { encoding: 'utf8' },
  );
  t.is(result.stdout.trim(), '1');
});

test('as PID 1, Ctrl+Z is ignored: PID 1 cannot stop itself, so the child is not stopped either', async (t) => {
  if (!requireUnshare(t)) return;
  const unshare = keepaliveAsPid1(['-v', '--', 'sleep', '1000']);
  const [, child] = await unshare.stderr.next(/sleep\[(\d+)\] started/);
  const keepalivePid = await outerPid(unshare);
  process.kill(keepalivePid, 'SIGTSTP');
  await unshare.stderr.next(/SIGTSTP received: ignored \(keepalive is PID 1/);
  const [sleepPid] = childrenOf(keepalivePid);
  t.truthy(child);
  t.not(processState(sleepPid as number), 'T');
  process.kill(keepalivePid, 'SIGTERM');
  t.is((await unshare.ended).status, 143);
});

test('a program that embeds the API as PID 1 keeps its own children: none is reaped or signalled by keepalive', async (t) => {
  const index = API_INDEX;
  const { spawn } = await import('node:child_process');
  const embedder = spawn(
    UNSHARE[0] as string,
    [...UNSHARE.slice(1), process.execPath, fixture('embedder.mjs'), index],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  embedder.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  embedder.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const status = await new Promise((resolve) => embedder.on('close', resolve));
  t.is(status, 0, output);
  // Its own child ended by itself, and Node saw it: keepalive took neither its status nor its life.
  t.regex(output, /own child: \{"code":4,"signal":null\}/);
});
