// FILE's rotated names (FILE.1, FILE.1.gz ... FILE.N) and the moves between them. A name is moved
// or removed only when it is keepalive's own (see isOurs); each move of a rotated file is link()
// then unlink(), which never replaces what is at the new name (a rename would, and root ignores a
// sticky directory's protection). What is not ours stops the chain there and is left alone.
import { linkSync, lstatSync, renameSync, unlinkSync, type Stats } from 'node:fs';

/** The two forms a rotated file can have. */
const SUFFIXES = ['', '.gz'] as const;

export function rotatedName(path: string, index: number, suffix = ''): string {
  return `${path}.${index}${suffix}`;
}

/**
 * A file keepalive made: a regular file of keepalive's own user with no other name, that no one
 * else can write. FILE's directory passed checkDirectory (no other user can rename or remove in
 * it, or, with the sticky bit, only names of their own): another user cannot make a file owned by
 * keepalive's uid (chown needs CAP_CHOWN), so a name that passes was made by keepalive.
 */
export function isOurs(stats: Stats, uid = process.geteuid?.() ?? 0): boolean {
  return stats.isFile() && stats.uid === uid && stats.nlink === 1 && (stats.mode & 0o022) === 0;
}

function look(name: string): Stats | undefined {
  try {
    return lstatSync(name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A name that stopped the rotation, with why it is not ours. */
export interface Foreign {
  name: string;
  why: string;
}

function foreignWhy(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'it is a symbolic link';
  if (!stats.isFile()) return 'it is not a regular file';
  if (stats.uid !== (process.geteuid?.() ?? 0)) return `it belongs to uid ${stats.uid}`;
  if (stats.nlink !== 1) return `it has ${stats.nlink} names`;
  return 'other users can write it';
}

/** Moves `from` to `to` without ever replacing `to`: false if `to` exists. */
function move(from: string, to: string): boolean {
  try {
    linkSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  unlinkSync(from);
  return true;
}

export interface Shifted {
  /** FILE is now FILE.1 (or, with keep 0, gone): a new FILE is to be made. */
  rotated: boolean;
  /** The first name that was not ours: the chain stopped before it. */
  foreign: Foreign | undefined;
  /** Indexes that moved up by one (for the compressions that follow them). */
  moved: number;
  /** The rotated files removed to make room (their index). */
  removed: number[];
}

/**
 * FILE -> FILE.1, FILE.1 -> FILE.2 ..., the oldest removed: as far as the names are ours. A name
 * that is not stops the chain: the one before it is the oldest kept. FILE.1 not ours: no rotation.
 */
export function shiftNames(path: string, keep: number): Shifted {
  let room = keep;
  let foreign: Foreign | undefined;
  // Up to the first free number (the names below it move up into it) or the first foreign name.
  for (let index = 1; index <= keep; index++) {
    const found = SUFFIXES.map((suffix) => look(rotatedName(path, index, suffix)));
    const other = found.findIndex((stats) => stats !== undefined && !isOurs(stats));
    if (other >= 0) {
      const suffix = SUFFIXES[other] as string;
      const stats = found[other] as Stats;
      foreign = { name: rotatedName(path, index, suffix), why: foreignWhy(stats) };
      room = index - 1;
      break;
    }
    if (found.every((stats) => stats === undefined)) {
      room = index;
      break;
    }
  }
  if (keep > 0 && room === 0) return { rotated: false, foreign, moved: 0, removed: [] };
  const removed: number[] = [];
  if (room === 0) {
    removeIfOurs(path);
    return { rotated: true, foreign, moved: 0, removed };
  }
  for (const suffix of SUFFIXES)
    if (removeIfOurs(rotatedName(path, room, suffix)) && !removed.includes(room))
      removed.push(room);
  for (let index = room - 1; index >= 1; index--) {
    for (const suffix of SUFFIXES) {
      const from = rotatedName(path, index, suffix);
      if (look(from) !== undefined) move(from, rotatedName(path, index + 1, suffix));
    }
  }
  // FILE itself is renamed, in one step: `tail -F` follows a rename (link and unlink lose it). A
  // rename replaces: FILE.1 was just moved away, so only a name made in this instant could be.
  const first = rotatedName(path, 1);
  if (look(first) !== undefined) return { rotated: false, foreign, moved: room - 1, removed };
  renameSync(path, first);
  return { rotated: true, foreign, moved: room - 1, removed };
}

/** Removes `name` if it is ours; true if it was. */
export function removeIfOurs(name: string, olderThan?: number): boolean {
  const stats = look(name);
  if (stats === undefined || !isOurs(stats)) return false;
  if (olderThan !== undefined && stats.mtimeMs >= olderThan) return false;
  unlinkSync(name);
  return true;
}

/** Removes the rotated files (ours) last written before `before` (epoch ms); their indexes. */
export function removeOld(path: string, keep: number, before: number): number[] {
  const removed: number[] = [];
  for (let index = 1; index <= keep; index++)
    for (const suffix of SUFFIXES)
      if (removeIfOurs(rotatedName(path, index, suffix), before)) removed.push(index);
  return removed;
}

/**
 * A rotation cut short by a crash leaves one file under two names (link done, unlink not): the
 * newer name is dropped, so that the file is ours again (one name) and the chain goes on.
 */
export function finishInterrupted(path: string, keep: number): void {
  let newer = look(path);
  for (let index = 1; index <= keep + 1; index++) {
    const name = rotatedName(path, index);
    const stats = look(name);
    if (
      newer !== undefined &&
      stats !== undefined &&
      stats.isFile() &&
      newer.ino === stats.ino &&
      newer.dev === stats.dev &&
      stats.nlink === 2
    )
      unlinkSync(index === 1 ? path : rotatedName(path, index - 1));
    newer = stats;
  }
}

/** The rotated files not yet compressed (ours), by index: for --output-compress at start. */
export function uncompressed(path: string, keep: number): number[] {
  const found: number[] = [];
  for (let index = 1; index <= keep; index++) {
    const stats = look(rotatedName(path, index));
    if (stats !== undefined && isOurs(stats) && look(rotatedName(path, index, '.gz')) === undefined)
      found.push(index);
  }
  return found;
}
