// keepalive as its users get it, for the tests: this checkout packed (`npm pack`) and the tarball
// installed into a private prefix (`npm install --global --prefix`), so that the tests run the
// `keepalive` command from PREFIX/bin. Done once per build: later runs of the same build find it.
// Run alone (`node scripts/test-install.mjs`), it prints PREFIX.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
// Outside the checkout, and short: `keepalive --help` ends with the installed README's path, and
// the tests hold its lines to 100 characters. One directory per checkout.
const HOME = join(
  tmpdir(),
  `keepalive-tests-${createHash('sha256').update(ROOT).digest('hex').slice(0, 8)}`,
);
export const PREFIX = join(HOME, 'prefix');
// Inside HOME, which only this user can write: a lock in /tmp could be another user's plant.
const LOCK = join(HOME, 'lock');
/** What ends up in the tarball: package.json's "files", and what npm always adds. */
const SHIPPED = [
  ...JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).files,
  ...['package.json', 'README.md', 'LICENSE'],
].map((path) => join(ROOT, path));
const NPM = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function files(path) {
  try {
    if (!statSync(path).isDirectory()) return [path];
  } catch {
    return [];
  }
  return readdirSync(path, { recursive: true })
    .map((name) => join(path, name))
    .filter((file) => statSync(file).isFile());
}

/** Names, sizes and times of every shipped file: a new build changes it. */
function fingerprint() {
  const hash = createHash('sha256');
  for (const file of SHIPPED.flatMap(files).sort()) {
    const { size, mtimeMs } = statSync(file);
    hash.update(`${file}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

/** The bin runs the bundle in dist/: after a bare `tsc`, it is older than build/src. */
function bundleIsStale() {
  const bundle = SHIPPED.filter((path) => path.startsWith(join(ROOT, 'dist'))).flatMap(files);
  const built = files(join(ROOT, 'build', 'src')).filter((file) => file.endsWith('.js'));
  if (bundle.length === 0) return true;
  const time = (file) => statSync(file).mtimeMs;
  return Math.min(...bundle.map(time)) < Math.max(0, ...built.map(time));
}

/** npm inside `npm test`: without the outer command's settings, with where packages come from. */
function npmEnv() {
  const kept = ['cache', 'registry', 'offline', 'userconfig'].map((key) => `npm_config_${key}`);
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.toLowerCase().startsWith('npm_') || kept.includes(key.toLowerCase()),
    ),
  );
}

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, env: npmEnv(), encoding: 'utf8' });
  if (result.status !== 0) {
    const why = result.error?.message ?? `status ${result.status}`;
    const said = `${result.stderr}${result.stdout}`;
    throw new Error(`${command} ${args.join(' ')} failed (${why}):\n${said}`);
  }
  return result.stdout;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * HOME, made this user's own (0755: the tests also run the installed keepalive as other users,
 * who must read it, never write it) if it is not. The tests run PREFIX/bin/keepalive as root: in
 * the shared /tmp, a directory another user made first (or swapped in between a removal and a
 * mkdir) would let that user choose what root runs. Anything else at the name goes.
 */
function ownHome() {
  const isOwn = () => {
    const stats = lstatSync(HOME);
    return stats.isDirectory() && stats.uid === process.getuid() && (stats.mode & 0o022) === 0;
  };
  try {
    if (isOwn()) return;
    rmSync(HOME, { recursive: true, force: true });
  } catch {
    // not there yet
  }
  try {
    mkdirSync(HOME, { mode: 0o755 });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  }
  if (!isOwn()) throw new Error(`${HOME} is not a directory only this user can write: remove it`);
}

/** One installer at a time: ava's workers may all ask at once. A dead holder's lock is taken. */
function withLock(step) {
  for (const deadline = Date.now() + 180_000; ; sleep(100)) {
    try {
      mkdirSync(LOCK, { recursive: false });
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(join(LOCK, 'pid'), { encoding: 'utf8', flag: 'a+' }));
      if (holder > 0 && !pidAlive(holder)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) {
        const why = `${LOCK} is held by process ${holder}: remove it if that is no test run`;
        throw new Error(why, { cause: error });
      }
    }
  }
  try {
    return step();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** PREFIX, with the package of this build installed there (packed and installed when it is not). */
export function installPacked() {
  ownHome();
  const stamp = join(HOME, 'fingerprint');
  const current = () =>
    existsSync(join(PREFIX, 'bin', 'keepalive')) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8') === fingerprint();
  if (!bundleIsStale() && current()) return PREFIX;
  return withLock(() => {
    if (bundleIsStale()) run('npm', ['run', '--silent', 'build:bundle'], ROOT);
    if (current()) return PREFIX;
    rmSync(PREFIX, { recursive: true, force: true });
    for (const name of readdirSync(HOME)) if (name.endsWith('.tgz')) rmSync(join(HOME, name));
    const print = fingerprint();
    // The build is fresh (npm test builds first): packing need not run `prepare` again.
    const [packed] = JSON.parse(
      run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', HOME, ...NPM], ROOT),
    );
    run(
      'npm',
      ['install', '--global', '--prefix', PREFIX, ...NPM, join(HOME, packed.filename)],
      HOME,
    );
    writeFileSync(stamp, print);
    return PREFIX;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${installPacked()}\n`);
  } catch (error) {
    process.stderr.write(`cannot install the packed keepalive for the tests: ${error.message}\n`);
    process.exit(1);
  }
}
