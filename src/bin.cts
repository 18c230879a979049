#!/usr/bin/env node
// The `keepalive` command (the package's bin, build/src/bin.cjs): runs the one-file bundle,
// dist/keepalive.cjs, with the V8 code cache that `npm run build` made for it
// (dist/keepalive.cjs.cache). Compiling the 500 KB bundle is most of what it costs to start, and
// Node 20 caches no compiled code by itself. The cache is written only by the build, beside the
// bundle, in the package: as trusted as the JavaScript, never a file this command writes. A cache
// V8 refuses (another Node) is ignored and the bundle compiled as usual. CommonJS, so that it runs
// the bundle before any ES module loader is involved.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const ROOT = join(__dirname, '..', '..');
export const BUNDLE = join(ROOT, 'dist', 'keepalive.cjs');

/** The bundle as a CommonJS module's function, compiled with `cachedData` when given. */
export function compileBundle(bundle = BUNDLE, cachedData: Buffer | undefined = readCache(`${bundle}.cache`)): Script {
  // The hashbang goes, its line stays: line numbers in stack traces are the file's.
  const code = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
  return new Script(wrapped, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined; // not built: compiled without
  }
}

type ModuleFunction = (this: unknown, exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;

export function runBundle(script: Script, bundle = BUNDLE): void {
  const module = { exports: {}, filename: bundle, id: bundle, loaded: false };
  (script.runInThisContext() as ModuleFunction).call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

if (require.main === module) {
  let script: Script | undefined;
  try {
    script = compileBundle();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    process.stderr.write(`keepalive: ${BUNDLE} is missing: run \`npm run build\` in ${ROOT}\n`);
    process.exit(70);
  }
  runBundle(script);
}
