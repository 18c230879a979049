// `status`, `restart` and `stop` for a keepalive started by any of the commands users run: the
// package's bin, the bundle, and the single executable under a name that is not keepalive. The
// supervisor is known by the lock it holds, not by the name it was started under.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { Keepalive } from '../helpers/keepalive.js';
import { running, uniqueMarker, workspace } from '../helpers/proc.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'build/src/bin.cjs');
const BUNDLE = join(ROOT, 'dist/keepalive.cjs');
const BUILD_BINARY = join(ROOT, 'scripts/build-binary.mjs');

let home = '';
/** The single executable, copied to a name of its own. */
let renamed = '';

test.before(async () => {
  home = mkdtempSync(join(tmpdir(), 'keepalive-entries-'));
  const built = join(home, 'keepalive');
  const build = spawn(process.execPath, [BUILD_BINARY, built], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  build.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [status] = (await once(build, 'close')) as [number | null];
  if (status !== 0) throw new Error(`npm run build:binary failed (status ${status}):\n${stderr}`);
  renamed = join(home, 'ka');
  copyFileSync(built, renamed);
  rmSync(built);
});

test.after.always(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

async function run(command: readonly string[], args: readonly string[]): Promise<Run> {
  const started = new Keepalive(args, { command });
  const { status } = await started.ended;
  return { status, stdout: started.stdout.text, stderr: started.stderr.text };
}

/** The `sleep MARKER` processes: the child, not the supervisor whose arguments hold it too. */
const sleeping = (marker: string): number[] =>
  running()
    .filter(({ argv }) => argv[0] === 'sleep' && argv[1] === marker)
    .map(({ pid }) => pid);

/** Started with --detach by `command`: status says running, restart restarts, stop ends it. */
async function controlled(t: ExecutionContext, command: readonly string[]): Promise<void> {
  const marker = uniqueMarker();
  const directory = workspace(t, marker); // its teardown kills what is left under the marker
  const pidfile = join(directory, 'app.pid');
  const started = await run(command, ['--pidfile', pidfile, '--detach', '--', 'sleep', marker]);
  t.is(started.status, 0, started.stderr);
  const supervisor = Number(readFileSync(pidfile, 'utf8'));
  const [child] = sleeping(marker);
  t.truthy(child, 'the child runs once --detach returns');

  const status = await run(command, ['status', '--pidfile', pidfile]);
  t.is(status.status, 0, status.stdout + status.stderr);
  const up = '[\\d.]+m?s';
  const lines = [
    `running: keepalive\\[${supervisor}\\], up ${up}`,
    `child: sleep\\[${child}\\], up ${up}`,
  ];
  t.regex(status.stdout, new RegExp(`^${lines.join('\\n')}\\n`));

  const restart = await run(command, ['restart', '--pidfile', pidfile]);
  t.is(restart.status, 0, restart.stderr);
  const [next] = sleeping(marker);
  t.truthy(next);
  t.not(next, child, 'a new child');
  t.is(restart.stderr, `keepalive: restarted: sleep[${next}] (was sleep[${child}])\n`);

  const stop = await run(command, ['stop', '--pidfile', pidfile]);
  t.is(stop.status, 0, stop.stderr);
  t.is(stop.stderr, `keepalive: stopped keepalive[${supervisor}] and sleep[${next}]\n`);
  t.deepEqual(sleeping(marker), [], 'the child is gone');
  t.false(
    running().some(({ pid }) => pid === supervisor),
    'the supervisor is gone',
  );
  t.deepEqual(readdirSync(directory), [], 'its files removed');
}

test('started as `node build/src/bin.cjs` (the package bin): status, restart, stop', async (t) => {
  await controlled(t, [process.execPath, BIN]);
});

test('started as `node dist/keepalive.cjs` (the bundle): status, restart, stop', async (t) => {
  await controlled(t, [process.execPath, BUNDLE]);
});

test('the single executable copied to `ka`: status, restart, stop', async (t) => {
  await controlled(t, [renamed]);
});

test('one command controls what another started: the bin stops what `ka` started', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const started = await run([renamed], ['--pidfile', pidfile, '--detach', '--', 'sleep', marker]);
  t.is(started.status, 0, started.stderr);
  const status = await run([process.execPath, BIN], ['status', '--pidfile', pidfile, '--json']);
  t.is(status.status, 0, status.stdout);
  const supervisorPid = Number(readFileSync(pidfile, 'utf8'));
  t.like(JSON.parse(status.stdout), { state: 'running', supervisorPid });
  const stop = await run([process.execPath, BIN], ['stop', '--pidfile', pidfile]);
  t.is(stop.status, 0, stop.stderr);
  t.deepEqual(sleeping(marker), []);
});
