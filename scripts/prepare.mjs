// npm's `prepare`: builds what the package ships from src: build/src (tsc: the API) and the
// command's bundle with its code cache (dist/, esbuild: what the bin, build/src/bin.cjs, runs). Plain
// JavaScript, because it runs where TypeScript and esbuild may not be installed yet.
//
// npm runs it after `npm install` in a clone and before `npm pack`/`npm publish` (TypeScript is there:
// it is a devDependency), and for a git dependency (npm installs the devDependencies first). For a
// directory (`npm install /path/to/clone`), npm links the clone and runs this in it without installing
// its devDependencies: then this installs them into the clone first, as npm itself does for git.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
  const kept = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_offline', 'npm_config_prefer_offline', 'npm_config_prefer_online', 'npm_config_userconfig']);
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') || kept.has(key.toLowerCase())) env[key] = value;
  }
  return env;
}

let tsc = findTsc();
if (tsc === undefined) {
  process.stderr.write(`keepalive: installing its build tools (devDependencies) in ${root} to build it\n`);
  const npm = process.env['npm_execpath'];
  // The lockfile's versions when there is one (a clone has it), as `npm ci` in the clone would.
  const command = existsSync(join(root, 'package-lock.json')) ? ['ci'] : ['install', '--no-save'];
  const args = [...command, '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
  const options = { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: innerNpmEnv() };
  if (npm?.endsWith('.js')) execFileSync(process.execPath, [npm, ...args], options);
  else execFileSync(npm ?? 'npm', args, options);
  tsc = findTsc();
  if (tsc === undefined) {
    process.stderr.write('keepalive: TypeScript or esbuild is still missing after installing the devDependencies; run `npm install` in the clone\n');
    process.exit(1);
  }
}

// A clean build: nothing left over from a deleted source file ends up in the package.
rmSync(join(root, 'build', 'src'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
chmodSync(join(root, 'build', 'src', 'cli.js'), 0o755);
chmodSync(join(root, 'build', 'src', 'bin.cjs'), 0o755);
// The command's bundle and its code cache (scripts/build-bundle.mjs), after tsc: it is the same source.
rmSync(join(root, 'dist', 'keepalive.cjs.cache'), { force: true });
const { bundle, buildCodeCache } = await import(pathToFileURL(join(root, 'scripts', 'build-bundle.mjs')).href);
await bundle({ outfile: join(root, 'dist', 'keepalive.cjs'), readme: '../README.md' });
if (buildCodeCache(join(root, 'dist', 'keepalive.cjs')) === undefined) process.stderr.write('keepalive: built without a code cache (its training run failed): it starts a little slower\n');
