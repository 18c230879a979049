#!/usr/bin/env node
// npm run build:bundle: the command line in one CommonJS file, dist/keepalive.cjs (esbuild), for
// Node with the package's node_modules beside it (koffi is loaded from there). build-binary.mjs
// makes the single executable's bundle with the same function.
import { build } from 'esbuild';
import { chmodSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  // Written beside it and renamed into place: a build cut short never leaves half a bundle.
  const next = `${outfile}.next-${process.pid}`;
  const result = await build({
    entryPoints: [join(ROOT, 'src/cli.ts')],
    outfile: next,
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
  // The executable runs the bundle as its main script, where a dynamic import() cannot load a file.
  // esbuild turns the lazy imports of src into requires.
  if (/\bimport\(/.test(readFileSync(next, 'utf8'))) {
    rmSync(next, { force: true });
    throw new Error(`${outfile} would have a dynamic import(), which the executable cannot run`);
  }
  renameSync(next, outfile);
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // tsc writes the bin (src/bin.cts) as a plain file: it is a command, run by its hashbang.
  chmodSync(join(ROOT, 'build/src/bin.cjs'), 0o755);
  const outfile = join(ROOT, 'dist/keepalive.cjs');
  await bundle({ outfile, readme: '../README.md' });
  process.stdout.write(`wrote ${outfile}\n`);
}
