// A pipe that keeps the time of its last write: a named FIFO on tmpfs, whose inode's mtime moves
// with each write (an anonymous pipe's does not, on Linux 6.x). With it, the watchdog can leave a
// steadily beating child's pipe unread and still know, at its deadline, when the last beat came
// (pipe-reader.ts's hush). The FIFO is opened at both ends and unlinked at once: from then on it is
// a pipe no one else can open. Where there is no tmpfs at /dev/shm, the caller takes a plain pipe.
import { closeSync, constants, fstatSync, openSync, readdirSync, statfsSync, type Stats } from 'node:fs';
import { decimal } from '../core/decimal.js';
import { loadLibc } from './native.js';
import { checkDirectory, removeIfOurs } from './safe-files.js';

const TMPFS_MAGIC = 0x01021994;
const EEXIST = 17;
/** tmpfs: a write's new mtime costs no disk write. */
const DIRECTORY = '/dev/shm';

let mkfifo: ((path: string, mode: number) => number) | undefined;
/** fstat(2) into one buffer: Node's fstatSync makes a Stats object per look. Undefined: not bound yet; null: use Node's. */
let fstat: ((fd: number, stat: Buffer) => number) | null | undefined;
const stat = Buffer.alloc(256);
/** struct stat's st_mtim, where glibc and musl agree on it (x86-64, arm64). */
const MTIME_OFFSET = 88;
/** Whether DIRECTORY is a safe tmpfs to make FIFOs in; looked at once, then kept. */
let usable: boolean | undefined;
let made = 0;

/**
 * A FIFO's two ends, close-on-exec, the read end non-blocking; undefined where none can be made
 * (the caller falls back to pipe()). The name is only for the instant between mkfifo and unlink:
 * in the sticky /dev/shm no one else can remove or replace it, and its owner and inode are checked.
 */
export function stampedPipe(): [read: number, write: number] | undefined {
  if (usable === undefined) {
    usable = isSafeTmpfs(DIRECTORY);
    if (usable) sweep();
  }
  if (!usable) return undefined;
  if (mkfifo === undefined) {
    const { library } = loadLibc();
    mkfifo = library.func('int mkfifo(const char *path, unsigned int mode)') as (path: string, mode: number) => number;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const path = `${DIRECTORY}/keepalive-${decimal(process.pid)}-${decimal(made++)}.fifo`;
    if (mkfifo(path, 0o600) !== 0) {
      // Taken (a keepalive SIGKILLed at this instant, or someone's plant): another name. Anything
      // else (read-only, out of inodes) holds for the next run too.
      if (loadLibc().koffi.errno() === EEXIST) continue;
      usable = false;
      return undefined;
    }
    const ends = openBoth(path);
    removeIfOurs(path, ownFifo);
    return ends;
  }
  return undefined;
}

function openBoth(path: string): [read: number, write: number] | undefined {
  const { O_RDONLY, O_WRONLY, O_NONBLOCK, O_NOFOLLOW } = constants;
  let read: number | undefined;
  let write: number | undefined;
  try {
    // The read end first: a FIFO's write end opens at once only while a reader is there.
    read = openSync(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
    write = openSync(path, O_WRONLY | O_NOFOLLOW);
    const stats = fstatSync(read);
    if (ownFifo(stats) && sameFile(stats, fstatSync(write))) return [read, write];
  } catch {
    // Gone or replaced between mkfifo and open: a plain pipe instead.
  }
  if (read !== undefined) closeSync(read);
  if (write !== undefined) closeSync(write);
  return undefined;
}

/** A FIFO of keepalive's own user: one it made, in a directory where no one else can put one under its name. */
function ownFifo(stats: Stats): boolean {
  return stats.isFIFO() && stats.uid === (process.geteuid?.() ?? stats.uid);
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/** The most names a sweep looks at. */
const SWEEP_MAX = 256;
/** A name this module makes: keepalive-PID-N.fifo. */
const NAME = /^keepalive-(\d+)-\d+\.fifo$/;

/**
 * The names a keepalive SIGKILLed between mkfifo and unlink left (a window of microseconds a
 * restart): FIFOs of this user whose keepalive is gone. Anything else is left alone: another user's
 * file, a symlink, a name whose pid runs (in the sticky directory, only this user can remove its own).
 */
function sweep(): void {
  let names: string[];
  try {
    names = readdirSync(DIRECTORY);
  } catch {
    return;
  }
  // Another user can plant names by the thousand: a first spawn looks at a few hundred at most.
  let looked = 0;
  for (const name of names) {
    if (!name.startsWith('keepalive-')) continue;
    if (++looked > SWEEP_MAX) break;
    const pid = Number(NAME.exec(name)?.[1] ?? Number.NaN);
    if (!(pid > 0) || pid === process.pid || running(pid)) continue;
    removeIfOurs(`${DIRECTORY}/${name}`, ownFifo);
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * A tmpfs that passes as a pidfile's directory does (safe-files.ts's checkDirectory: it and every
 * step above it keepalive's user's or root's, sticky if others may write): there, no one else can
 * remove or replace a name keepalive made between its mkfifo and its unlink.
 */
function isSafeTmpfs(directory: string): boolean {
  try {
    checkDirectory(directory);
    return statfsSync(directory).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/** How long ago the pipe was last written to, by the kernel's (coarse) wall clock; undefined if fstat fails. */
export function writtenAgoMs(fd: number): number | undefined {
  fstat ??= bindFstat();
  if (fstat === null) {
    try {
      return Date.now() - fstatSync(fd).mtimeMs;
    } catch {
      return undefined;
    }
  }
  if (fstat(fd, stat) !== 0) return undefined;
  const seconds = stat.readUInt32LE(MTIME_OFFSET) + stat.readInt32LE(MTIME_OFFSET + 4) * 2 ** 32;
  return Date.now() - (seconds * 1000 + stat.readUInt32LE(MTIME_OFFSET + 8) / 1e6);
}

/** glibc before 2.33 has no fstat symbol (only __fxstat), and other architectures lay struct stat out otherwise. */
function bindFstat(): ((fd: number, stat: Buffer) => number) | null {
  if (process.arch !== 'x64' && process.arch !== 'arm64') return null;
  try {
    return loadLibc().library.func('int fstat(int fd, _Out_ void *stat)') as (fd: number, stat: Buffer) => number;
  } catch {
    return null;
  }
}
