// Files beside a pidfile, written so that a crash never leaves half a file and a symlink planted in
// the directory is never followed: O_NOFOLLOW on every open, O_EXCL on every creation, rename to publish.
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND, O_DIRECTORY } = constants;

/** A small regular file's text; undefined when it does not exist. Symlinks and other kinds are refused. */
export function readRegularFile(path: string, maxBytes = 64 * 1024): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREG' });
    const buffer = Buffer.alloc(maxBytes);
    let length = 0;
    for (let read = 1; read > 0 && length < maxBytes; length += read) read = readSync(fd, buffer, length, maxBytes - length, null);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Writes a temporary file in the same directory, syncs it, and renames it over `path`. */
export function writeAtomically(path: string, text: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Our own pid's leftover from an earlier process with the same number: unlink never follows links.
    unlinkSync(temporary);
    fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  }
  try {
    fchmodSync(fd, mode); // the exact mode, whatever the umask
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temporary, path);
  } catch (error) {
    removeQuietly(temporary);
    throw error;
  }
  syncDirectory(dirname(path));
}

/** Opens a log file for appending, creating it with `mode`; never through a symlink. */
export function openForAppend(path: string, mode: number): number {
  const fd = openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREG' });
  }
  return fd;
}

/** Removes `path` if it is still the file `isOurs` recognises; true if it was removed. */
export function removeIfOurs(path: string, isOurs: (stats: Stats) => boolean): boolean {
  try {
    if (!isOurs(lstatSync(path))) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** So that a rename survives a power cut too; a directory that cannot be synced is not an error. */
function syncDirectory(path: string): void {
  try {
    const fd = openSync(path, O_RDONLY | O_DIRECTORY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory.
  }
}
