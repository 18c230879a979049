// The set's file from disk: a config file (YAML, config.ts) or a Procfile (procfile.ts). The
// `yaml` package is loaded only here, so that a single command's start never pays for it.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, type SetDefaults } from './set-rules.js';
import type { SetOptions } from './types.js';

export interface SetSource {
  kind: 'config' | 'procfile';
  /** As the user gave it: every problem names the file so. */
  file: string;
}

export async function loadSet(
  source: SetSource,
  defaults: Omit<SetDefaults, 'baseDir'>,
): Promise<SetOptions> {
  const text = readText(source.file);
  const withBase = { ...defaults, baseDir: dirname(resolve(source.file)) };
  if (source.kind === 'procfile')
    return (await import('./procfile.js')).readProcfile(source.file, text, withBase);
  return (await import('./config.js')).readConfig(source.file, text, withBase);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // "ENOENT: no such file or directory, open 'x'" → "no such file or directory (ENOENT)".
    const words = /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
    throw new ConfigError(`${file}: cannot read it: ${words}${code ? ` (${code})` : ''}`);
  }
}
