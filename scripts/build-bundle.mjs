#!/usr/bin/env node
// npm run build:bundle: the command line in one CommonJS file, dist/keepalive.cjs (esbuild), for
// Node with the package's node_modules beside it (koffi is loaded from there). build-binary.mjs
// makes the single executable's bundle with the same function.
import { build } from 'esbuild';
import { chmodSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeSchema } from './build-schema.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where the npm bundle finds the packages it keeps in files of their own (see `bundle`): yargs,
 * and yaml (260 KB, needed only by -c FILE).
 */
const APART = [
  { module: 'yargs', file: 'keepalive-yargs.cjs', contents: "require('yargs').default" },
  { module: 'yaml', file: 'keepalive-yaml.cjs', contents: "require('yaml')" },
];

/**
 * Bundles src/cli.ts into `outfile`. `readme` is where the README is from the bundle (null: none,
 * as in the executable). The modules cli.ts imports lazily stay lazy: in CommonJS output each
 * bundled module runs on its first require, and nothing is hoisted to the top. With `yargsApart`,
 * yargs (200 KB with its own dependencies, needed only by status, stop and restart) goes into a
 * second file beside the bundle (and yaml, needed only by -c FILE, into a third): Node compiles a whole file before running any of it, and without
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
    for (const { file, contents } of APART) {
      await writeInPlace(join(dirname(outfile), file), (next) =>
        build({
          ...common,
          stdin: { contents: `module.exports = ${contents};`, resolveDir: ROOT },
          outfile: next,
        }),
      );
    }
  }
  const toApartFiles = {
    name: 'apart',
    setup(resolver) {
      for (const { module, file } of APART) {
        const apart = { path: `./${file}`, external: true };
        resolver.onResolve({ filter: new RegExp(`^${module}$`) }, () => apart);
      }
    },
  };
  // The config file's JSON Schema ships beside the bundle, made from the same option table.
  await writeSchema();
  return writeInPlace(outfile, async (next) => {
    const result = await build({
      ...common,
      entryPoints: [join(ROOT, 'src/cli.ts')],
      outfile: next,
      // koffi comes from node_modules (or, in the executable, from an asset): never bundled.
      external: ['koffi', 'cross-spawn'],
      plugins: yargsApart ? [toApartFiles] : [],
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
