// What users run: the package's bin (package.json), a small file that requires the esbuild bundle
// (dist/, built by `npm run build`), not the plain build the other tests drive. The same answers as
// the plain build; Node's own compile cache only in the user's own cache directory, never as root.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { PLAIN_CLI } from '../helpers/keepalive.js';

interface Manifest {
  version: string;
  bin: Record<string, string>;
  files: string[];
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const BIN = join(ROOT, PACKAGE.bin['keepalive'] ?? 'missing');

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function keepalive(args: readonly string[], command = [BIN], options: SpawnSyncOptions = {}): Ran {
  const [program, ...rest] = command as [string, ...string[]];
  const spawnOptions = { timeout: 30_000, ...options, encoding: 'utf8' } as const;
  const result = spawnSync(program, [...rest, ...args], spawnOptions);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the bin is a command run by its hashbang, and package-lock.json names the same', (t) => {
  t.is(PACKAGE.bin['keepalive'], 'build/src/bin.cjs');
  t.true(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n'));
  const lockFile = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
  const lock = JSON.parse(lockFile) as { packages: Record<string, { bin?: unknown }> };
  t.deepEqual(lock.packages['']?.bin, PACKAGE.bin);
});

test("no code cache of our own: nothing built on the publisher's Node is in the package", (t) => {
  const dist = PACKAGE.files.filter((file) => file.startsWith('dist/'));
  t.deepEqual(dist, ['dist/keepalive.cjs', 'dist/keepalive-yargs.cjs', 'dist/keepalive-yaml.cjs']);
});

test("exit statuses: the child's 3, 137 for a SIGKILLed child, 127 for no such command", (t) => {
  const three = keepalive(['--restart', 'never', '--', 'sh', '-c', 'exit 3']);
  t.is(three.status, 3, three.stderr);
  t.regex(three.stderr, /exited with code 3; not restarting \(--restart never\)/);
  const killed = keepalive(['-q', '--restart', 'never', '--', 'sh', '-c', 'kill -KILL $$']);
  t.is(killed.status, 137, killed.stderr);
  const missing = keepalive(['--restart', 'never', '--', 'no-such-command-of-keepalive']);
  t.is(missing.status, 127);
  t.regex(missing.stderr, /command not found: no-such-command-of-keepalive, status 127/);
});

test('--help, --version, status and a usage error say what the plain build says', (t) => {
  // status reads its words with yargs, which the bundle keeps in a file of its own.
  const status = ['status', '--pidfile', '/nonexistent/app.pid', '--json'];
  const wrongStop = ['stop', '--bogus', 'x', '--pidfile', 'a.pid'];
  const cases = [['--help'], ['--version'], status, wrongStop, ['--delay', '5', '--', 'true'], []];
  for (const args of cases) {
    const bundled = keepalive(args);
    const plain = keepalive(args, [process.execPath, PLAIN_CLI]);
    t.deepEqual(bundled, plain, args.join(' '));
  }
  t.is(keepalive(['--version']).stdout, `${PACKAGE.version}\n`);
});

test("$NOTIFY_SOCKET works from the bundle (koffi loaded from the package's node_modules)", (t) => {
  const child = 'systemd-notify --ready --status=bundled && sleep 0.2';
  const result = keepalive(['-v', '--restart', 'never', '--', 'sh', '-c', child]);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stderr, /is ready \(READY=1 after .*\n.*status: bundled\n/);
});

/** Runs the bin with Node's enableCompileCache replaced by one that says where it would cache. */
function compileCacheAsked(env: NodeJS.ProcessEnv, user?: { uid: number; gid: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-bin-'));
  try {
    chmodSync(dir, 0o755);
    const spy = join(dir, 'spy.cjs');
    const say = 'process.stderr.write(`compile cache: ${directory}\\n`)';
    writeFileSync(spy, `require('node:module').enableCompileCache = (directory) => ${say};\n`);
    const command = [process.execPath, '--require', spy, BIN];
    const result = keepalive(['--version'], command, { env, ...user });
    if (result.status !== 0) throw new Error(`the bin exited ${result.status}: ${result.stderr}`);
    return /^compile cache: (.*)$/m.exec(result.stderr)?.[1] ?? 'none';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the compile cache: in the user's own cache directory, never as root", (t) => {
  const PATH = process.env['PATH'] ?? '';
  const ours = 'keepalive-supervisor/compile-cache';
  if (process.geteuid?.() !== 0) {
    t.is(compileCacheAsked({ PATH, HOME: '/home/u', XDG_CACHE_HOME: '/c' }), `/c/${ours}`);
    return;
  }
  // Root: none, wherever HOME and XDG_CACHE_HOME point (under sudo, maybe to another user's).
  const someone = { PATH, HOME: '/home/someone', XDG_CACHE_HOME: '/home/someone/.cache' };
  t.is(compileCacheAsked(someone), 'none');
  // Another user (nobody): their own; a relative XDG_CACHE_HOME is ignored, as XDG says.
  const nobody = { uid: 65534, gid: 65534 };
  const home = { PATH, HOME: '/home/nobody' };
  t.is(compileCacheAsked(home, nobody), `/home/nobody/.cache/${ours}`);
  t.is(compileCacheAsked({ ...home, XDG_CACHE_HOME: '/var/c' }, nobody), `/var/c/${ours}`);
  t.is(compileCacheAsked({ ...home, XDG_CACHE_HOME: 'c' }, nobody), `/home/nobody/.cache/${ours}`);
});

test('a bin without its bundle says how to build it, in one line, status 70', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-bin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'build', 'src'), { recursive: true });
  copyFileSync(BIN, join(dir, 'build', 'src', 'bin.cjs'));
  const result = keepalive(['--version'], [process.execPath, join(dir, 'build', 'src', 'bin.cjs')]);
  t.is(result.status, 70);
  const bundle = join(dir, 'dist', 'keepalive.cjs');
  t.is(result.stderr, `keepalive: ${bundle} is missing: run \`npm run build\` in ${dir}\n`);
});

test('--on-exit "" is refused like every other empty value: one line, status 2', (t) => {
  const refusal =
    /^keepalive: --on-exit ".*": expected a shell command \(or, from the API, a function\), such/;
  for (const args of [['--on-exit', ''], ['--on-exit', ' '], ['--on-exit=']]) {
    const result = keepalive([...args, '--restart', 'never', '--', 'true']);
    t.is(result.status, 2, args.join(' '));
    t.regex(result.stderr, refusal);
    t.is(result.stderr.split('\n').length, 2, result.stderr); // one line
  }
});
