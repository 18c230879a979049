#!/usr/bin/env node
// npm run build:bundle: the command line in one CommonJS file, dist/keepalive.cjs (esbuild), for
// Node with the package's node_modules beside it (koffi is loaded from there). build-binary.mjs
// makes the single executable's bundle with the same function.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Bundles src/cli.ts into `outfile`. `readme` is where the README is from the bundle (null: none,
 * as in the executable). The modules cli.ts imports lazily stay lazy: in CommonJS output each
 * bundled module runs on its first require, and nothing is hoisted to the top.
 */
export async function bundle({ outfile, readme, minify = false }) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const facts = { version: pkg.version, ...(pkg.homepage ? { homepage: pkg.homepage } : {}), readme };
  const result = await build({
    entryPoints: [join(ROOT, 'src/cli.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify,
    // koffi comes from node_modules (or, in the executable, from an asset): never bundled.
    external: ['koffi', 'cross-spawn'],
    define: { KEEPALIVE_PACKAGE: JSON.stringify(facts), 'import.meta.url': 'KEEPALIVE_BUNDLE_URL' },
    inject: [join(ROOT, 'scripts/bundle-url.mjs')],
    logLevel: 'warning',
    metafile: true,
  });
  // The bin (src/bin.cts) runs the bundle as a vm.Script, and the executable as its main script: in
  // neither can a dynamic import() load a file. esbuild turns the lazy imports of src into requires.
  if (/\bimport\(/.test(readFileSync(outfile, 'utf8'))) throw new Error(`${outfile} has a dynamic import(), which neither the bin nor the executable can run`);
  return result;
}

/**
 * What the cache is made from: runs of the bundle, in a Node of their own, each on these words.
 * A real start of a child first (the functions a start-up runs are then in the cache compiled, not
 * only parsed: about 10 ms better than after --version alone); where that cannot run (a builder
 * without `true`, or one that forbids a subreaper), --version.
 */
const TRAINING_RUNS = [['-q', '--restart', 'never', '--', 'true'], ['--version']];

/**
 * V8's code cache for the bundle, at `${bundle}.cache`, made by the bin's own compile (src/bin.cts)
 * after a training run. It is for the Node that runs this: V8 refuses it in another, and the
 * bundle is compiled as it would be without. Returns the cache's path, or undefined if no run worked.
 */
export function buildCodeCache(bundle, runs = TRAINING_RUNS) {
  const bundlePath = resolve(bundle);
  const cache = `${bundlePath}.cache`;
  const loader = join(ROOT, 'build/src/bin.cjs'); // src/bin.cts, built by tsc first
  rmSync(cache, { force: true });
  for (const words of runs) {
    const train = `
      const { compileBundle, runBundle } = require(${JSON.stringify(loader)});
      const script = compileBundle(${JSON.stringify(bundlePath)}, undefined);
      process.argv = [process.argv[0], ${JSON.stringify(bundlePath)}, ...${JSON.stringify(words)}];
      process.on('exit', (status) => status === 0 && require('node:fs').writeFileSync(${JSON.stringify(`${cache}.new`)}, script.createCachedData()));
      runBundle(script, ${JSON.stringify(bundlePath)});`;
    try {
      execFileSync(process.execPath, ['-e', train], { stdio: 'ignore', timeout: 60_000 });
      renameSync(`${cache}.new`, cache);
      return cache;
    } catch {
      rmSync(`${cache}.new`, { force: true });
    }
  }
  return undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // tsc writes the bin (src/bin.cts) as a plain file: it is a command, run by its hashbang.
  chmodSync(join(ROOT, 'build/src/bin.cjs'), 0o755);
  const outfile = join(ROOT, 'dist/keepalive.cjs');
  await bundle({ outfile, readme: '../README.md' });
  const cache = buildCodeCache(outfile);
  process.stdout.write(cache ? `wrote ${outfile} and its code cache\n` : `wrote ${outfile} (no code cache: its training runs failed)\n`);
}
