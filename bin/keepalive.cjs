#!/usr/bin/env node
// The `keepalive` command (the package's bin): runs the one-file bundle, dist/keepalive.cjs, with
// the V8 code cache that `npm run build` made for it (dist/keepalive.cjs.cache). Compiling the
// 500 KB bundle is most of what it costs to start, and Node 20 caches no compiled code by itself.
// The cache is written only by the build, beside the bundle, in the package: as trusted as the
// JavaScript, never a file this command writes. A cache V8 refuses (another Node) is ignored and
// the bundle compiled as usual.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'keepalive.cjs');

/** The bundle as a CommonJS module's function, compiled with `cachedData` when given. */
function compileBundle(bundle = BUNDLE, cachedData = readCache(`${bundle}.cache`)) {
  // The hashbang goes, its line stays: line numbers in stack traces are the file's.
  const code = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
  return new Script(wrapped, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
}

function readCache(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined; // not built: compiled without
  }
}

function runBundle(script, bundle = BUNDLE) {
  const module = { exports: {}, filename: bundle, id: bundle, loaded: false };
  script.runInThisContext().call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

if (require.main === module) {
  let script;
  try {
    script = compileBundle();
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    process.stderr.write(`keepalive: ${BUNDLE} is missing: run \`npm run build\` in ${join(__dirname, '..')}\n`);
    process.exit(70);
  }
  runBundle(script);
}

module.exports = { BUNDLE, compileBundle, runBundle };
