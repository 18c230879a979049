// The set's file from disk: a config file (YAML, config.ts) or a Procfile (procfile.ts). The
// `yaml` package is loaded only here, so that a single command's start never pays for it.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { distrustSetFile, distrustStep } from '../core/file-trust.js';
import { asker, checkDirectory, fileFacts, uidWords } from '../guardian/safe-files.js';
import { ConfigError, type SetDefaults } from './set-rules.js';
import type { SetOptions } from './types.js';

export interface SetSource {
  kind: 'config' | 'procfile';
  /** As the user gave it: every problem names the file so. */
  file: string;
}

/** A set's file is a few kilobytes; a bound keeps /dev/zero or a huge file from filling memory. */
export const MAX_SET_FILE_BYTES = 1024 * 1024;

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

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** Says why a file is refused: the fix follows from the rule it breaks. */
class Refused extends Error {}

/**
 * The file's text, read only if another user could not have chosen it: keepalive runs its commands
 * as its own user, root too. So the file, every directory above it and every symbolic link on the
 * way must be keepalive's user's or root's and writable by nobody else (as for a pidfile, see
 * guardian/safe-files.ts); checked on the open descriptor, never a FIFO or a device.
 */
function readText(file: string): string {
  try {
    const fd = openTrusted(file, resolve(file));
    try {
      return utf8(file, readBounded(file, fd));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof Refused || (error as { code?: string }).code === 'EUNTRUSTED')
      throw new ConfigError(
        `${file}: not run, as another user could have chosen its commands: ` +
          `${(error as Error).message}; make it, and each directory above it, root's or ` +
          "keepalive's user's, and writable by nobody else",
      );
    const { code, message } = error as NodeJS.ErrnoException;
    // "ENOENT: no such file or directory, open 'x'" → "no such file or directory (ENOENT)".
    const words = /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
    throw new ConfigError(`${file}: cannot read it: ${words}${code ? ` (${code})` : ''}`);
  }
}

function openTrusted(file: string, path: string): number {
  checkDirectory(dirname(path));
  let real = path;
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) {
    // A link of a trusted user in a trusted directory: where it leads is judged as the file is.
    const link = distrustStep(fileFacts(stats), asker(), uidWords);
    if (link !== undefined) throw new Refused(`${path}: ${link}`);
    real = realpathSync(path);
    checkDirectory(dirname(real));
  }
  const fd = openSync(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const facts = fileFacts(fstatSync(fd));
    const kind = KIND_WORDS[facts.kind];
    if (kind !== undefined)
      throw new ConfigError(
        `${file}: ${real === path ? '' : `(${real}) `}it is ${kind}; give the set's file itself`,
      );
    const why = distrustSetFile(facts, asker(), uidWords);
    if (why !== undefined) throw new Refused(`${real}: ${why}`);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

const KIND_WORDS: Partial<Record<string, string>> = {
  directory: 'a directory',
  fifo: 'a FIFO',
  socket: 'a socket',
  device: 'a device',
  other: 'not a regular file',
};

function readBounded(file: string, fd: number): Buffer {
  const buffer = Buffer.alloc(MAX_SET_FILE_BYTES + 1);
  let length = 0;
  for (let read = 1; read > 0 && length < buffer.length; length += read)
    read = readSync(fd, buffer, length, buffer.length - length, null);
  if (length > MAX_SET_FILE_BYTES)
    throw new ConfigError(
      `${file}: larger than ${MAX_SET_FILE_BYTES / 1024 / 1024} MiB; a set's file is a few ` +
        'kilobytes: is it the right file?',
    );
  return buffer.subarray(0, length);
}

const strict = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 or refused, naming the line: a replacement character would change a command silently. */
function utf8(file: string, bytes: Buffer): string {
  try {
    return strict.decode(bytes);
  } catch {
    let start = 0;
    for (let line = 1; ; line++) {
      const end = bytes.indexOf(0x0a, start);
      try {
        strict.decode(bytes.subarray(start, end === -1 ? bytes.length : end));
      } catch {
        throw new ConfigError(`${file}:${line}: not UTF-8 text; save the file as UTF-8`);
      }
      if (end === -1) throw new ConfigError(`${file}: not UTF-8 text; save the file as UTF-8`);
      start = end + 1;
    }
  }
}
