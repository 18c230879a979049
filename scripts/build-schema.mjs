#!/usr/bin/env node
// The config file's JSON Schema, keepalive.schema.json, from the option table
// (src/set/config-schema.ts, compiled here by esbuild: this runs before or without tsc's build).
// build-bundle.mjs writes it with the bundle, so that `npm run build` and `prepare` both make it.
import { build } from 'esbuild';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = join(ROOT, 'keepalive.schema.json');

export async function writeSchema(file = SCHEMA_FILE) {
  const result = await build({
    entryPoints: [join(ROOT, 'src/set/config-schema.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'warning',
  });
  const code = result.outputFiles[0].text;
  const { configSchema } = await import(
    `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
  );
  const next = `${file}.next-${process.pid}`;
  writeFileSync(next, `${JSON.stringify(configSchema(), null, 2)}\n`);
  renameSync(next, file);
  return file;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`wrote ${await writeSchema()}\n`);
}
