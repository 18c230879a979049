// The test harness itself (scripts/test-run.mjs, test/helpers/cleanup.ts): a run of `npm test`
// interrupted halfway, or whose test hangs past ava's timeout, leaves no process behind. Each case
// runs the harness on a scratch project whose one test starts what an aborted run once left
// running for 30 minutes (a keepalive restarting a dying child at once), and a daemon of its own.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { endTrees } from '../helpers/cleanup.js';
import { Lines } from '../helpers/keepalive.js';
import { eventually, running, uniqueMarker, type Running } from '../helpers/proc.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const withMarker = (marker: string): number[] =>
  running()
    .filter((p) => p.argv.some((word) => word.includes(marker)))
    .map((p) => p.pid);

function workingIn(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * A project whose one test starts processes marked by `marker` (a keepalive and a daemon), then
 * waits for ever; with `hangs` false, it starts the daemon alone, passes and leaves it.
 */
function project(t: ExecutionContext, marker: string, timeout: string, hangs = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-harness-'));
  t.teardown(() => {
    // Whatever of the run still works in it (ava, its workers, keepalive), should the test fail.
    endTrees(
      running()
        .filter((p) => workingIn(p.pid) === dir)
        .map((p) => p.pid),
    );
    rmSync(dir, { recursive: true, force: true });
  });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const ava = { files: ['leaver.test.mjs'], timeout, workerThreads: false };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', ava }));
  const helper = JSON.stringify(join(ROOT, 'build', 'test', 'helpers', 'keepalive.js'));
  writeFileSync(
    join(dir, 'leaver.test.mjs'),
    `
import { spawn } from 'node:child_process';
import test from 'ava';
import { Keepalive } from ${helper};
test('starts processes', async (t) => {
  const dying = ['sh', '-c', 'sleep 0.2; exit 1', 'child-${marker}'];
  if (${hangs}) new Keepalive(['--heartbeat', '1s', '--delay', '0', '--', ...dying]);
  spawn('sh', ['-c', 'setsid sleep ${marker} &'], { stdio: 'ignore' });
  console.log('started');
  if (${hangs}) await new Promise(() => {});
  t.pass();
});
`,
  );
  return dir;
}

/** The harness on the project, in a process group of its own as a shell's job is. */
function harness(
  t: ExecutionContext,
  dir: string,
): { pid: number; dir: string; output: Lines; ended: Promise<[number | null, string | null]> } {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'test-run.mjs')], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new Lines();
  for (const stream of [child.stdout, child.stderr])
    stream.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const ended = once(child, 'exit') as Promise<[number | null, string | null]>;
  t.teardown(() => {
    // Not once it has ended: its pid may be another process's by then.
    if (child.exitCode === null && child.signalCode === null) endTrees([child.pid as number]);
  });
  return { pid: child.pid as number, dir, output, ended };
}

/** The keepalive runs its child, and the daemon runs. */
async function started(marker: string, output: Lines): Promise<void> {
  await eventually(
    'the test to start its processes',
    () => output.all.some((line) => line.includes('started')),
    60_000,
  );
  const children = (): number =>
    running().filter((p) => p.argv.includes(`child-${marker}`) && p.argv[0] === 'sh').length;
  await eventually(
    'the daemon',
    () => running().some((p) => p.argv.join(' ') === `sleep ${marker}`),
    30_000,
  );
  await eventually('a child of keepalive', () => children() > 0, 30_000);
}

for (const [who, target] of [
  ['the job (Ctrl+C)', 'group'],
  ['the harness alone', 'harness'],
] as const) {
  test(`SIGINT halfway to ${who}: the run ends and no process of it is left`, async (t) => {
    t.timeout(120_000);
    const marker = uniqueMarker();
    const run = harness(t, project(t, marker, '5m'));
    t.teardown(() => endTrees(withMarker(marker)));
    await started(marker, run.output);
    process.kill(target === 'group' ? -run.pid : run.pid, 'SIGINT');
    const [status] = await run.ended;
    t.is(status, 130, run.output.text);
    // A process SIGKILLed by the run's end may still be listed for a moment on a loaded machine
    // (until its parent reaps it); one left behind stays.
    await eventually(
      "the run's processes to be gone",
      () => withMarker(marker).length === 0,
      5_000,
    ).catch(() => undefined);
    t.deepEqual(withMarker(marker), [], 'nothing of the run is left');
  });
}

const HANGS =
  "a test that hangs past ava's timeout leaves no process: the run fails, and ends them";
test(HANGS, async (t) => {
  t.timeout(120_000);
  const marker = uniqueMarker();
  const run = harness(t, project(t, marker, '10s'));
  t.teardown(() => endTrees(withMarker(marker)));
  await started(marker, run.output);
  const [status] = await run.ended;
  t.is(status, 1, run.output.text);
  t.regex(run.output.text, /Timed out while running tests/);
  t.deepEqual(withMarker(marker), [], 'nothing of the run is left');
});

test('a run whose tests pass but leave a process fails, names it, and ends it', async (t) => {
  t.timeout(120_000);
  const marker = uniqueMarker();
  const run = harness(t, project(t, marker, '1m', false));
  t.teardown(() => endTrees(withMarker(marker)));
  const [status] = await run.ended;
  t.is(status, 1, run.output.text);
  t.regex(run.output.text, /1 test passed/);
  t.regex(
    run.output.text,
    new RegExp(`still ran after ava ended \\(now killed\\):\n.*sleep ${marker}`),
  );
  t.deepEqual(withMarker(marker), [], 'nothing of the run is left');
});

test('SIGKILL to the harness: ava, its workers and the keepalives they started end', async (t) => {
  t.timeout(120_000);
  const marker = uniqueMarker();
  const run = harness(t, project(t, marker, '5m'));
  t.teardown(() => endTrees(withMarker(marker)));
  await started(marker, run.output);
  // ava, its worker and keepalive work in the project; keepalive's child is marked.
  const daemon = (p: Running): boolean => p.argv.join(' ') === `sleep ${marker}`;
  const ofTest = (): number[] =>
    running()
      .filter((p) => p.argv.includes(`child-${marker}`) || workingIn(p.pid) === run.dir)
      .filter((p) => !daemon(p))
      .map((p) => p.pid);
  t.true(ofTest().length >= 4, 'ava, its worker, keepalive and its child run');
  process.kill(run.pid, 'SIGKILL');
  // Nothing is left to find the daemon (only the harness's end does): ava and keepalive die with
  // their parents.
  await eventually('keepalive, its child and the workers to end', () => ofTest().length === 0);
  t.pass();
});
