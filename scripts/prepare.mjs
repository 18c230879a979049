// npm's `prepare`: builds what the package ships from src: build/src (tsc: the API) and the
// command's bundle (dist/, esbuild: what the bin, build/src/bin.cjs, requires). Plain
// JavaScript, because it runs where TypeScript and esbuild may not be installed yet.
//
// npm runs it after `npm install` in a clone and before `npm pack`/`npm publish` (TypeScript is
// there: it is a devDependency), and for a git dependency (npm installs the devDependencies first).
// For a directory (`npm install /path/to/clone`), npm links the clone and runs this in it without
// installing its devDependencies: then this installs them into the clone first, as npm itself does
// for git.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const resolve = createRequire(join(root, 'package.json')).resolve;

/** tsc, once esbuild is there too: both are devDependencies, installed together. */
function findTsc() {
  try {
    resolve('esbuild');
    return resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

/**
 * The environment for npm inside npm: the outer command's settings (`-g`, `--prefix`, `--omit=dev`,
 * `--install-links` ...) must not apply to the clone; where packages come from (cache, registry,
 * offline) still does.
 */
function innerNpmEnv() {
  const kept = new Set([
    'npm_config_cache',
    'npm_config_registry',
    'npm_config_offline',
    'npm_config_prefer_offline',
    'npm_config_prefer_online',
    'npm_config_userconfig',
  ]);
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') || kept.has(key.toLowerCase())) env[key] = value;
  }
  return env;
}

let tsc = findTsc();
if (tsc === undefined) {
  process.stderr.write(
    `keepalive: installing its build tools (devDependencies) in ${root} to build it\n`,
  );
  const npm = process.env['npm_execpath'];
  // The lockfile's versions when there is one (a clone has it), as `npm ci` in the clone would.
  const command = existsSync(join(root, 'package-lock.json')) ? ['ci'] : ['install', '--no-save'];
  const args = [...command, '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
  const options = { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: innerNpmEnv() };
  if (npm?.endsWith('.js')) execFileSync(process.execPath, [npm, ...args], options);
  else execFileSync(npm ?? 'npm', args, options);
  tsc = findTsc();
  if (tsc === undefined) {
    process.stderr.write(
      'keepalive: TypeScript or esbuild is still missing after installing the devDependencies; run `npm install` in the clone\n',
    );
    process.exit(1);
  }
}

// Skipped when build/src and dist/ are exactly what an earlier run made from the same sources:
// `npx keepalive` in a clone installs the clone into npx's cache and so runs this again, and the
// first line of the quick start must not wait for a rebuild.
const stampFile = join(root, 'build', 'prepared.json');
const inputs = fingerprint(inputFiles(), installedVersions());
const stamp = readStamp();
if (stamp?.inputs === inputs && stamp?.outputs === fingerprint(outputFiles())) process.exit(0);

// A clean build (nothing left over from a deleted source file ends up in the package), made beside
// the working one and renamed into place: a build cut short (Ctrl+C) leaves the old one working.
process.stderr.write(`keepalive: building ${root} (tsc and esbuild)\n`);
removeAbandonedBuilds();
const next = join(root, `build-next-${process.pid}`);
// At the same depth as build/, so that the source maps' relative paths to src/ hold after the move.
const tscArgs = [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', next];
execFileSync(process.execPath, tscArgs, { cwd: root, stdio: 'inherit' });
chmodSync(join(next, 'src', 'cli.js'), 0o755);
chmodSync(join(next, 'src', 'bin.cjs'), 0o755);
// The command's bundles (scripts/build-bundle.mjs, which renames them into place), after tsc:
// it is the same source, and tsc has just said it compiles.
const { bundle } = await import(pathToFileURL(join(root, 'scripts', 'build-bundle.mjs')).href);
const outfile = join(root, 'dist', 'keepalive.cjs');
await bundle({ outfile, readme: '../README.md', yargsApart: true });
rmSync(join(root, 'dist', 'keepalive.cjs.cache'), { force: true }); // an older build's code cache

// The swap: Ctrl+C now waits until build/src is whole again, then ends this as it would have.
const held = [];
const hold = (signal) => held.push(signal);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, hold);
mkdirSync(join(root, 'build'), { recursive: true });
rmSync(stampFile, { force: true });
const built = join(root, 'build', 'src');
if (existsSync(built)) renameSync(built, join(next, 'old'));
renameSync(join(next, 'src'), built);
writeFileSync(stampFile, `${JSON.stringify({ inputs, outputs: fingerprint(outputFiles()) })}\n`);
rmSync(next, { recursive: true, force: true });
await new Promise((done) => setImmediate(done));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(signal, hold);
if (held.length > 0) process.kill(process.pid, held[0]);

/** Every file under `dir` (relative to the root), sorted; none when it does not exist. */
function filesUnder(dir) {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

/** What the build reads from this repository. */
function inputFiles() {
  const scripts = ['prepare', 'build-bundle', 'bundle-url', 'build-schema'].map(
    (name) => `scripts/${name}.mjs`,
  );
  return [...filesUnder('src'), 'package.json', 'tsconfig.json', 'tsconfig.build.json', ...scripts];
}

function outputFiles() {
  // dist/'s bundles, not the 90 MB executable that `npm run build:binary` may have put there.
  const bundles = filesUnder('dist').filter((file) => file.endsWith('.cjs'));
  // The config file's JSON Schema, written with the bundles (scripts/build-schema.mjs): a missing
  // one makes the build run again.
  return [...filesUnder(join('build', 'src')), ...bundles, 'keepalive.schema.json'];
}

/** The installed version of each package package.json names: the compilers, and what is bundled. */
function installedVersions() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).sort();
  return names.map((name) => {
    try {
      const manifest = readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8');
      return `${name}@${JSON.parse(manifest).version}`;
    } catch {
      return `${name}@none`;
    }
  });
}

/** A SHA-256 of the files' names and contents (a missing file counts as missing) and of `extra`. */
function fingerprint(files, extra = []) {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\0`);
    try {
      hash.update(readFileSync(join(root, file)));
    } catch {
      hash.update('\0missing\0');
    }
  }
  for (const line of extra) hash.update(`${line}\n`);
  return hash.digest('hex');
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Temporary build folders of runs that were cut short (their process is gone). One killed (-9)
 * between the swap's two renames left its old build/src there: it goes back first.
 */
function removeAbandonedBuilds() {
  for (const name of readdirSync(root)) {
    const pid = /^build-next-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    const old = join(root, name, 'old');
    const built = join(root, 'build', 'src');
    if (!existsSync(built) && existsSync(old)) renameSync(old, built);
    rmSync(join(root, name), { recursive: true, force: true });
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}
