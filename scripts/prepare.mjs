// npm's `prepare`: builds build/src, what the package ships, from src. Plain JavaScript, because it
// runs where TypeScript may not be installed yet.
//
// npm runs it after `npm install` in a clone and before `npm pack`/`npm publish` (TypeScript is there:
// it is a devDependency), and for a git dependency (npm installs the devDependencies first). For a
// directory (`npm install /path/to/clone`), npm links the clone and runs this in it without installing
// its devDependencies: then this installs them into the clone first, as npm itself does for git.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const resolve = createRequire(join(root, 'package.json')).resolve;

function findTsc() {
  try {
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
    process.stderr.write('keepalive: TypeScript is still missing after installing the devDependencies; run `npm install` in the clone\n');
    process.exit(1);
  }
}

// A clean build: nothing left over from a deleted source file ends up in the package.
rmSync(join(root, 'build', 'src'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
chmodSync(join(root, 'build', 'src', 'cli.js'), 0o755);
