// The files of one instance, all beside the pidfile:
//   FILE          the supervisor's pid, for people and tools (0644)
//   FILE.state    the state record, JSON, kept current (0644)
//   FILE.lock     empty; flock(2)ed by the supervisor for its whole life (0600)
//   FILE.restart  a pending `keepalive restart` request (0600), removed when served
//   FILE.stop     a pending `keepalive stop` request (0600), removed when served
//   FILE.rotate   a pending `keepalive rotate` request (0600), removed when served
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  boundRecord,
  judgeInstance,
  namedPid,
  parseRecord,
  type InstanceRecord,
  type Verdict,
} from '../core/instance-state.js';
import { flockHolders } from '../core/lock-holders.js';
import { tryLockExclusive } from '../native/native.js';
import { bootId, processFacts } from '../tree/proc.js';
import {
  checkDirectory,
  checkRecordFile,
  checkRecordFiles,
  readTrustedFile,
  removeIfOurs,
  writeAtomically,
} from './safe-files.js';

export interface InstancePaths {
  pidfile: string;
  state: string;
  lock: string;
  restart: string;
  stop: string;
  rotate: string;
  directory: string;
}

export function instancePaths(pidfile: string): InstancePaths {
  const absolute = resolve(pidfile);
  return {
    pidfile: absolute,
    state: `${absolute}.state`,
    lock: `${absolute}.lock`,
    restart: `${absolute}.restart`,
    stop: `${absolute}.stop`,
    rotate: `${absolute}.rotate`,
    directory: dirname(absolute),
  };
}

const PIDFILE_MODE = 0o644;
const STATE_MODE = 0o644;
export const PRIVATE_MODE = 0o600;
/**
 * FILE.state is read back up to this size; keepalive never writes a bigger one. A set's record
 * holds an entry per process, each up to a few KB.
 */
const MAX_RECORD_BYTES = 1024 * 1024;

/** The six names beside FILE, each believed only if keepalive could have written it. */
function besideFile(paths: InstancePaths): string[] {
  return [paths.pidfile, paths.state, paths.lock, paths.stop, paths.restart, paths.rotate];
}

/**
 * Refuses FILE's directory if others can remove keepalive's files there, and any file beside FILE
 * that keepalive cannot have written. A directory that does not exist holds nothing to judge.
 */
export function checkInstanceFiles(paths: InstancePaths): void {
  try {
    checkDirectory(paths.directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return;
  }
  checkRecordFiles(besideFile(paths));
}

/** A file keepalive cannot use as it is: unreadable, of another owner, not a regular file. */
export class InstanceError extends Error {
  override name = 'InstanceError';
}

export interface Lock {
  /** Drops the lock; with `removeFile`, first removes the lock file (while still holding it). */
  release(removeFile: boolean): void;
}

/**
 * Takes FILE.lock, or returns undefined if a live process holds it. The file is checked after
 * locking: a lock on a file that was removed meanwhile (by a supervisor that just ended) is no
 * lock.
 */
export function tryLock(path: string): Lock | undefined {
  for (;;) {
    const fd = openSync(
      path,
      constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      PRIVATE_MODE,
    );
    const held = fstatSync(fd);
    try {
      checkRecordFile(path, held);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    if (!tryLockExclusive(fd)) {
      closeSync(fd);
      return undefined;
    }
    if (sameFile(path, held.ino, held.dev)) {
      return {
        release(removeFile) {
          if (removeFile)
            removeIfOurs(path, (stats) => stats.ino === held.ino && stats.dev === held.dev);
          closeSync(fd);
        },
      };
    }
    closeSync(fd);
  }
}

function sameFile(path: string, ino: number, dev: number): boolean {
  try {
    const now = lstatSync(path);
    return now.ino === ino && now.dev === dev;
  } catch {
    return false;
  }
}

export interface InstanceView {
  paths: InstancePaths;
  verdict: Verdict;
}

/** Reads the files and /proc, and judges who owns the pidfile. Unreadable files give 'unknown'. */
export function viewInstance(paths: InstancePaths): InstanceView {
  let pidText: string | undefined;
  let stateText: string | undefined;
  try {
    checkInstanceFiles(paths);
    pidText = readTrustedFile(paths.pidfile, 64);
    stateText = readTrustedFile(paths.state, MAX_RECORD_BYTES);
  } catch (error) {
    const untrusted = (error as NodeJS.ErrnoException).code === 'EUNTRUSTED';
    return {
      paths,
      verdict: {
        kind: 'unknown',
        pid: undefined,
        problem: untrusted ? describeError(error) : `cannot read it: ${describeError(error)}`,
      },
    };
  }
  const parsed = stateText === undefined ? undefined : parseRecord(stateText);
  const record = parsed?.ok ? parsed.value : undefined;
  const pid = namedPid(pidText, record);
  const verdict = judgeInstance({
    pidfile: paths.pidfile,
    pidText,
    record,
    ...(parsed && !parsed.ok ? { recordProblem: parsed.problem } : {}),
    supervisor: pid === undefined ? undefined : processFacts(pid),
    lockHolders: pid === undefined ? [] : lockHolders(paths, pid),
    bootId: bootId(),
  });
  return { paths, verdict };
}

/** Who holds FILE.lock now, as the kernel says (any user may ask); undefined if it cannot tell. */
function lockHolders(paths: InstancePaths, pid: number): number[] | undefined {
  let inode: string | undefined;
  try {
    inode = lstatSync(paths.lock, { bigint: true }).ino.toString();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  let holders: number[];
  try {
    holders = inode === undefined ? [] : flockHolders(readFileSync('/proc/locks', 'utf8'), inode);
  } catch {
    return undefined;
  }
  return holders.includes(pid) || !holdsRemovedLock(pid, paths) ? holders : [...holders, pid];
}

/**
 * Whether `pid` still holds the FILE.lock someone removed under it: the supervisor then still owns
 * FILE, and a second one must not start. Only root and its own user can see its descriptors.
 */
function holdsRemovedLock(pid: number, paths: InstancePaths): boolean {
  // The kernel names a removed file by its real path, with " (deleted)" after it.
  const directory = attempt(() => realpathSync(paths.directory));
  if (directory === undefined) return false;
  const removed = `${join(directory, basename(paths.lock))} (deleted)`;
  const fds = `/proc/${pid}/fd`;
  for (const fd of attempt(() => readdirSync(fds)) ?? []) {
    if (attempt(() => readlinkSync(`${fds}/${fd}`)) !== removed) continue;
    const inode = attempt(() => statSync(`${fds}/${fd}`, { bigint: true }).ino.toString());
    const locks = attempt(() => readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
    if (inode && locks && flockHolders(locks, inode).includes(pid)) return true;
  }
  return false;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Writes FILE.state, every field bounded, so that it always reads back. */
export function writeRecord(paths: InstancePaths, record: InstanceRecord): void {
  const text = `${JSON.stringify(boundRecord(record), null, 2)}\n`;
  if (Buffer.byteLength(text) > MAX_RECORD_BYTES)
    throw new InstanceError(
      `the state for ${paths.pidfile} would be over ${MAX_RECORD_BYTES} bytes`,
    );
  writeAtomically(paths.state, text, STATE_MODE);
}

export function writePidfile(paths: InstancePaths, pid: number): void {
  writeAtomically(paths.pidfile, `${pid}\n`, PIDFILE_MODE);
}

/** Removes the pidfile and the state file, each only if it still names `pid`. */
export function removeOwnFiles(paths: InstancePaths, pid: number): void {
  const names = (path: string, test: (text: string) => boolean): boolean => {
    try {
      const text = readTrustedFile(path, MAX_RECORD_BYTES);
      return text !== undefined && test(text);
    } catch {
      return false;
    }
  };
  if (
    names(paths.state, (text) => {
      const parsed = parseRecord(text);
      return parsed.ok && parsed.value.supervisor.pid === pid;
    })
  ) {
    removeIfOurs(paths.state, (stats) => stats.isFile());
  }
  if (names(paths.pidfile, (text) => text.trim() === String(pid)))
    removeIfOurs(paths.pidfile, (stats) => stats.isFile());
}

/**
 * What only the lock holder may remove: a dead predecessor's files and half-written temporaries.
 */
export function removeStaleFiles(
  paths: InstancePaths,
  stalePid: number | undefined,
  options: { keepRecord: boolean },
): void {
  const doomed = options.keepRecord
    ? [paths.restart, paths.stop, paths.rotate]
    : [paths.state, paths.pidfile, paths.restart, paths.stop, paths.rotate];
  for (const path of doomed) removeIfOurs(path, (stats) => stats.isFile());
  if (stalePid === undefined) return;
  for (const path of [paths.state, paths.pidfile])
    removeIfOurs(`${path}.${stalePid}.tmp`, (stats) => stats.isFile());
}

export function describeError(error: unknown): string {
  const { code, path } = error as NodeJS.ErrnoException;
  if (code === 'ELOOP')
    return `${path ?? 'a file'} is a symbolic link, which keepalive does not follow here`;
  if (code === 'EUNTRUSTED') {
    const message = (error as Error).message;
    const directory = (error as { directory?: boolean }).directory === true;
    if (directory && !/ it is (a|an|not) /.test(message))
      return (
        `${message}: use a directory only keepalive's user or root can write, or one with ` +
        `the sticky bit (as /tmp)`
      );
    return / it is (a|an|not) /.test(message)
      ? message
      : `${message}: keepalive believes only files of its own user or root that no one else can ` +
          `write (remove it if it is not in use)`;
  }
  if (code === 'ENOSPC')
    return `no space left on the device${path === undefined ? '' : ` for ${path}`}`;
  const message = error instanceof Error ? error.message : String(error);
  return code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})` : message;
}
