#!/usr/bin/env node
// npm run build:bundle: the command line in one CommonJS file, dist/keepalive.cjs (esbuild), for
// Node with the package's node_modules beside it (koffi is loaded from there). build-binary.mjs
// makes the single executable's bundle with the same function.
import { build } from 'esbuild';
import { chmodSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the npm bundle finds yargs, which it keeps in a file of its own (see `bundle`). */
const YARGS_FILE = 'keepalive-yargs.cjs';

/**
 * Bundles src/cli.ts into `outfile`. `readme` is where the README is from the bundle (null: none,
 * as in the executable). The modules cli.ts imports lazily stay lazy: in CommonJS output each
 * bundled module runs on its first require, and nothing is hoisted to the top. With `yargsApart`,
 * yargs (200 KB with its own dependencies, needed only by status, stop and restart) goes into a
 * second file beside the bundle: Node compiles a whole file before running any of it, and without
 * a code cache that is most of what a start costs. The executable keeps everything in one file.
 */
export async function bundle({ outfile, readme, minify = false, yargsApart = false }) {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const homepage = pkg.homepage ? { homepage: pkg.homepage } : {};
  const facts = { version: pkg.version, ...homepage, readme };
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify,
    define: { KEEPALIVE_PACKAGE: JSON.stringify(facts), 'import.meta.url': 'KEEPALIVE_BUNDLE_URL' },
    inject: [join(ROOT, 'scripts/bundle-url.mjs')],
    logLevel: 'warning',
    metafile: true,
  };
  if (yargsApart) {
    const yargsFile = join(dirname(outfile), YARGS_FILE);
    await writeInPlace(yargsFile, (next) =>
      build({
        ...common,
        stdin: { contents: "module.exports = require('yargs').default;", resolveDir: ROOT },
        outfile: next,
      }),
    );
  }
  const toYargsFile = {
    name: 'yargs-apart',
    setup(resolver) {
      const apart = { path: `./${YARGS_FILE}`, external: true };
      resolver.onResolve({ filter: /^yargs$/ }, () => apart);
    },
  };
  return writeInPlace(outfile, async (next) => {
    const result = await build({
      ...common,
      entryPoints: [join(ROOT, 'src/cli.ts')],
      outfile: next,
      // koffi comes from node_modules (or, in the executable, from an asset): never bundled.
      external: ['koffi', 'cross-spawn'],
      plugins: yargsApart ? [toYargsFile] : [],
    });
    // The executable runs the bundle as its main script, where a dynamic import() cannot load a
    // file. esbuild turns the lazy imports of src into requires.
    if (/\bimport\(/.test(readFileSync(next, 'utf8'))) {
      throw new Error(`${outfile} would have a dynamic import(), which the executable cannot run`);
    }
    return result;
  });
}

/** Writes `file` through `write(temporary)`, then renames it into place: never half a file. */
async function writeInPlace(file, write) {
  const next = `${file}.next-${process.pid}`;
  try {
    const result = await write(next);
    renameSync(next, file);
    return result;
  } finally {
    rmSync(next, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // tsc writes the bin (src/bin.cts) as a plain file: it is a command, run by its hashbang.
  chmodSync(join(ROOT, 'build/src/bin.cjs'), 0o755);
  const outfile = join(ROOT, 'dist/keepalive.cjs');
  await bundle({ outfile, readme: '../README.md', yargsApart: true });
  process.stdout.write(`wrote ${outfile}\n`);
}
