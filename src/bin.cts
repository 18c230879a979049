#!/usr/bin/env node
// The `keepalive` command (the package's bin, build/src/bin.cjs): requires the esbuild bundle,
// dist/keepalive.cjs. First it turns on Node's own compile cache where the running Node has one
// (22.8 and later), so that a later start need not compile the 300 KB bundle again; Node 20 has
// none, and there the bundle is compiled on every start. CommonJS, so that nothing but this small
// file is loaded before the bundle.
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', 'keepalive.cjs');

/**
 * Where the compile cache goes, or undefined for none. Node runs the compiled code it finds there
 * after checking it against a checksum of the source, which whoever can write the cache can forge
 * too: so only the user's own cache directory, never the shared temp directory (Node's default).
 * Never as root: keepalive runs as root as a container's init and as a cron guardian, where $HOME
 * or $XDG_CACHE_HOME may still be another user's (sudo keeps them). NODE_COMPILE_CACHE is Node's
 * own setting: when it is set, Node has turned the cache on before this file runs.
 */
function compileCacheDirectory(): string | undefined {
  if (process.geteuid?.() === 0) return undefined;
  const xdg = process.env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'keepalive-supervisor', 'compile-cache');
}

const node = nodeModule as { enableCompileCache?: (directory?: string) => unknown };
if (typeof node.enableCompileCache === 'function') {
  const directory = compileCacheDirectory();
  if (directory !== undefined) node.enableCompileCache(directory);
}

if (!existsSync(BUNDLE)) {
  process.stderr.write(`keepalive: ${BUNDLE} is missing: run \`npm run build\` in ${ROOT}\n`);
  process.exit(70);
}
// The bundle is CommonJS, found at run time beside this file: a plain require is the whole loader.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(BUNDLE);
