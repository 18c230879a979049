#!/usr/bin/env node
// npm run build:binary: dist/keepalive, one executable for Linux x64 that needs no Node and no
// node_modules: a Node single executable application (SEA) made from the Node running this script.
// The bundle (build-bundle.mjs) is its main script, with V8's code cache (made by this Node for
// this Node, which the executable is); koffi's native part is an asset that src/native/koffi.ts
// loads; postject writes the blob into a copy of node.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundle, ROOT } from './build-bundle.mjs';

/** The fuse Node looks for to know that a blob was injected (Node's documentation of SEA). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export async function buildBinary(outfile = join(ROOT, 'dist/keepalive')) {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `the executable is built for Linux x64 only, not ${process.platform} ${process.arch}`,
    );
  const require = createRequire(import.meta.url);
  // The glibc build: the Node that builds (and is copied into) the executable is a glibc one.
  const native = require.resolve('@koromix/koffi-linux-x64/linux_x64/koffi.node');
  const work = mkdtempSync(join(ROOT, 'dist-work-'));
  try {
    const main = join(work, 'keepalive.cjs');
    await bundle({ outfile: main, readme: null, minify: true });
    const config = join(work, 'sea-config.json');
    const blob = join(work, 'sea.blob');
    writeFileSync(
      config,
      JSON.stringify({
        main,
        output: blob,
        disableExperimentalSEAWarning: true,
        useCodeCache: true,
        assets: { 'koffi.node': native },
      }),
    );
    execFileSync(process.execPath, ['--experimental-sea-config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    mkdirSync(join(outfile, '..'), { recursive: true });
    const binary = join(work, 'keepalive');
    copyFileSync(process.execPath, binary);
    chmodSync(binary, 0o755);
    // Node's debug information and symbol table are 13 MB that nothing running needs; its dynamic
    // symbols, which koffi's native part links against, stay. (Without strip the file is larger.)
    try {
      execFileSync('strip', ['--strip-all', binary], { stdio: 'ignore' });
    } catch {
      // No strip here: keep the full size.
    }
    await quietly(() => injectBlob(require, binary, readFileSync(blob)));
    copyFileSync(binary, `${outfile}.new`);
    // Renamed into place, so that a running copy of the old executable is never overwritten.
    renameSync(`${outfile}.new`, outfile);
    return { outfile, bytes: statSync(outfile).size };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function injectBlob(require, binary, blob) {
  const { inject } = require('postject');
  await inject(binary, 'NODE_SEA_BLOB', blob, { sentinelFuse: FUSE });
}

/**
 * postject's ELF writer (LIEF) warns "Can't find string offset for section name '.note.100'" once
 * for each note section of Node's binary, about a dozen times: those sections' names are missing
 * from the section-name table of the file it writes. Nothing reads them: Node finds its blob by
 * the note's own name (NODE_SEA_BLOB) in the PT_NOTE segment, and test/e2e/binary.test.ts runs the
 * result. Those lines alone are left out; any other warning is printed.
 */
async function quietly(work) {
  const warn = console.warn;
  const harmless = /^warning: Can't find string offset for section name '\.note(?:\.\d+)?'$/;
  console.warn = (...words) => {
    if (!(words.length === 1 && harmless.test(String(words[0])))) warn(...words);
  };
  try {
    return await work();
  } finally {
    console.warn = warn;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { outfile, bytes } = await buildBinary(process.argv[2]);
  process.stdout.write(`wrote ${outfile} (${(bytes / 1e6).toFixed(1)} MB)\n`);
}
