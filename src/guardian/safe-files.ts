// Files beside a pidfile, written so that a crash never leaves half a file and a symlink planted in
// the directory is never followed: O_NOFOLLOW on every open, O_EXCL on every creation, rename to
// publish. O_NONBLOCK on every open of a name that may already exist, so that a FIFO (or a device)
// planted there cannot block keepalive in open(): fstat then says what it is, and it is refused.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  distrustLogFile,
  distrustRecord,
  distrustStep,
  type Asker,
  type FileFacts,
} from '../core/file-trust.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_APPEND, O_DIRECTORY, O_NONBLOCK } =
  constants;

/** A file keepalive will not believe or write: the message names it and says why. */
class UntrustedFileError extends Error {
  override name = 'UntrustedFileError';
  readonly code = 'EUNTRUSTED';
  /** A directory (or a link) on the way to the file, not the file itself. */
  constructor(
    message: string,
    readonly directory: boolean,
  ) {
    super(message);
  }
}

/** keepalive's own user and group, against whom files are judged. */
export function asker(): Asker {
  return { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
}

export function fileFacts(stats: Stats): FileFacts {
  const kind = stats.isFile()
    ? 'file'
    : stats.isDirectory()
      ? 'directory'
      : stats.isSymbolicLink()
        ? 'symlink'
        : stats.isFIFO()
          ? 'fifo'
          : stats.isSocket()
            ? 'socket'
            : stats.isCharacterDevice() || stats.isBlockDevice()
              ? 'device'
              : 'other';
  return { kind, uid: stats.uid, gid: stats.gid, mode: stats.mode };
}

let passwd: Map<number, string> | undefined;

/** "uid 1001 (alice)": the name from /etc/passwd when it has one. */
export function uidWords(uid: number): string {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id) && !passwd.has(Number(id))) passwd.set(Number(id), name);
      }
    } catch {
      // No names, then: numbers say it too.
    }
  }
  const name = passwd.get(uid);
  return name === undefined ? `uid ${uid}` : `uid ${uid} (${name})`;
}

function refuse(path: string, why: string | undefined, directory = false): void {
  if (why !== undefined) throw new UntrustedFileError(`${path}: ${why}`, directory);
}

/** Refuses a file beside FILE that keepalive cannot have written (see core/file-trust.ts). */
export function checkRecordFile(path: string, stats: Stats): void {
  refuse(path, distrustRecord(fileFacts(stats), asker(), uidWords));
}

/** As the kernel's own limit on links followed in one lookup. */
const MAX_LINKS = 40;

/**
 * Refuses FILE's directory when other users could remove or replace what keepalive writes there:
 * the directory itself, every directory above it, and every symbolic link on the way (followed here
 * one by one, so that each name the kernel will pass through is judged; see distrustStep).
 */
export function checkDirectory(path: string): void {
  const judge = (step: string, stats: Stats): void =>
    refuse(step, distrustStep(fileFacts(stats), asker(), uidWords), true);
  let at = '/';
  judge(at, lstatSync(at));
  const pending = resolve(path).split('/');
  for (let links = 0; pending.length > 0;) {
    const name = pending.shift() as string;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      at = dirname(at); // `at` never holds a link, so this is the real parent, judged already
      continue;
    }
    const step = join(at, name);
    const stats = lstatSync(step);
    judge(step, stats);
    if (!stats.isSymbolicLink()) {
      at = step;
      continue;
    }
    if (++links > MAX_LINKS) refuse(path, 'too many symbolic links on the way to it', true);
    const target = readlinkSync(step);
    if (target.startsWith('/')) at = '/';
    pending.unshift(...target.split('/'));
  }
}

/** Each existing name among `paths` must be a file keepalive believes; missing ones are fine. */
export function checkRecordFiles(paths: readonly string[]): void {
  for (const path of paths) {
    let stats: Stats;
    try {
      stats = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    checkRecordFile(path, stats);
  }
}

/**
 * A small file's text, checked on its open descriptor (regular, keepalive's user or root, written
 * by nobody else); undefined when it does not exist. Symlinks and other kinds are refused.
 */
export function readTrustedFile(path: string, maxBytes = 64 * 1024): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    checkRecordFile(path, fstatSync(fd));
    const buffer = Buffer.alloc(maxBytes);
    let length = 0;
    for (let read = 1; read > 0 && length < maxBytes; length += read)
      read = readSync(fd, buffer, length, maxBytes - length, null);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes all of `text`: writeSync may write less than asked (a full disk says so on the next call).
 */
function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Writes a temporary file in the same directory, syncs it, and renames it over `path`. On any
 * failure (a full disk, a quota) the temporary file is removed: nothing half-made is left.
 */
export function writeAtomically(path: string, text: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Our own pid's leftover from an earlier process with the same number: unlink never follows
    // links.
    unlinkSync(temporary);
    fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  }
  try {
    try {
      fchmodSync(fd, mode); // the exact mode, whatever the umask
      writeAll(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    removeQuietly(temporary);
    throw error;
  }
  syncDirectory(dirname(path));
}

/**
 * Opens a log file for appending, creating it with `mode`; never through a symlink, never a FIFO or
 * a device, and unless `shared`, never a file another user owns or can write, nor in a directory
 * another user could swap for one of their own (which could point root's appends anywhere).
 */
export function openForAppend(
  path: string,
  mode: number,
  options: { shared?: boolean } = {},
): number {
  if (!options.shared) checkDirectoryIfAny(dirname(resolve(path)));
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (error) {
    // A FIFO nobody reads: open(O_WRONLY | O_NONBLOCK) says ENXIO rather than wait.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO')
      throw new UntrustedFileError(`${path}: it is a FIFO`, false);
    throw error;
  }
  try {
    const facts = fileFacts(fstatSync(fd));
    refuse(
      path,
      facts.kind === 'file' && options.shared
        ? undefined
        : distrustLogFile(facts, asker(), uidWords),
    );
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * checkDirectory, but a directory that does not exist is left to the open that follows to report.
 */
function checkDirectoryIfAny(path: string): void {
  try {
    checkDirectory(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
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

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** So that a rename survives a power cut too; a directory that cannot be synced is not an error. */
function syncDirectory(path: string): void {
  try {
    const fd = openSync(path, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory.
  }
}
