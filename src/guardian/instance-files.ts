// The files of one instance, all beside the pidfile:
//   FILE          the supervisor's pid, for people and tools (0644)
//   FILE.state    the state record, JSON, kept current (0644)
//   FILE.lock     empty; flock(2)ed by the supervisor for its whole life (0600)
//   FILE.restart  a pending `keepalive restart` request (0600), removed when served
//   FILE.stop     a pending `keepalive stop` request (0600), removed when served
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  judgeInstance,
  namedPid,
  parseRecord,
  type InstanceRecord,
  type Verdict,
} from '../core/instance-state.js';
import { tryLockExclusive } from '../shell/native.js';
import { bootId, processFacts } from '../shell/proc.js';
import { readRegularFile, removeIfOurs, writeAtomically } from '../shell/safe-files.js';

export interface InstancePaths {
  pidfile: string;
  state: string;
  lock: string;
  restart: string;
  stop: string;
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
    directory: dirname(absolute),
  };
}

export const PIDFILE_MODE = 0o644;
export const STATE_MODE = 0o644;
export const PRIVATE_MODE = 0o600;

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
 * locking: a lock on a file that was removed meanwhile (by a supervisor that just ended) is no lock.
 */
export function tryLock(path: string): Lock | undefined {
  for (;;) {
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, PRIVATE_MODE);
    const held = fstatSync(fd);
    if (!held.isFile() || held.uid !== process.geteuid?.()) {
      closeSync(fd);
      throw new InstanceError(`${path} is not a lock file keepalive made (owner uid ${held.uid}); remove it if it is stale`);
    }
    if (!tryLockExclusive(fd)) {
      closeSync(fd);
      return undefined;
    }
    if (sameFile(path, held.ino, held.dev)) {
      return {
        release(removeFile) {
          if (removeFile) removeIfOurs(path, (stats) => stats.ino === held.ino && stats.dev === held.dev);
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
  verdict: Verdict;
}

/** Reads the files and /proc, and judges who owns the pidfile. Unreadable files give 'unknown'. */
export function viewInstance(paths: InstancePaths): InstanceView {
  let pidText: string | undefined;
  let stateText: string | undefined;
  try {
    pidText = readRegularFile(paths.pidfile, 64);
    stateText = readRegularFile(paths.state);
  } catch (error) {
    return { verdict: { kind: 'unknown', pid: undefined, problem: `cannot read it: ${describeError(error)}` } };
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
    bootId: bootId(),
  });
  return { verdict };
}

export function writeRecord(paths: InstancePaths, record: InstanceRecord): void {
  writeAtomically(paths.state, `${JSON.stringify(record, null, 2)}\n`, STATE_MODE);
}

export function writePidfile(paths: InstancePaths, pid: number): void {
  writeAtomically(paths.pidfile, `${pid}\n`, PIDFILE_MODE);
}

/** Removes the pidfile and the state file, each only if it still names `pid`. */
export function removeOwnFiles(paths: InstancePaths, pid: number): void {
  const names = (path: string, test: (text: string) => boolean): boolean => {
    try {
      const text = readRegularFile(path);
      return text !== undefined && test(text);
    } catch {
      return false;
    }
  };
  if (names(paths.state, (text) => { const parsed = parseRecord(text); return parsed.ok && parsed.value.supervisor.pid === pid; })) {
    removeIfOurs(paths.state, (stats) => stats.isFile());
  }
  if (names(paths.pidfile, (text) => text.trim() === String(pid))) removeIfOurs(paths.pidfile, (stats) => stats.isFile());
}

/** What only the lock holder may remove: a dead predecessor's files and half-written temporaries. */
export function removeStaleFiles(paths: InstancePaths, stalePid: number | undefined, options: { keepRecord: boolean }): void {
  const doomed = options.keepRecord ? [paths.restart, paths.stop] : [paths.state, paths.pidfile, paths.restart, paths.stop];
  for (const path of doomed) removeIfOurs(path, (stats) => stats.isFile());
  if (stalePid === undefined) return;
  for (const path of [paths.state, paths.pidfile]) removeIfOurs(`${path}.${stalePid}.tmp`, (stats) => stats.isFile());
}

export function describeError(error: unknown): string {
  const { code, path } = error as NodeJS.ErrnoException;
  if (code === 'ELOOP') return `${path ?? 'a file'} is a symbolic link, which keepalive does not follow here`;
  const message = error instanceof Error ? error.message : String(error);
  return code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})` : message;
}
