// One output file: batches of whole lines queued, written in order, FILE rotated at a line boundary
// before a write would take it past its size. The queue is bounded: by default a batch that does
// not fit is dropped whole and counted (the child never waits for the disk); lossless, the reader
// is told to wait instead. A write that fails (a full disk, a read-only file system) is cut back
// to the last whole line, its lines counted as dropped, and tried again a little later.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  openSync,
  writev,
} from 'node:fs';
import { openForAppend } from '../guardian/safe-files.js';
import { Compressor } from './file-compress.js';
import {
  finishInterrupted,
  removeOld,
  shiftNames,
  uncompressed,
  type Foreign,
} from './file-names.js';
import type { FileOutputSettings } from './types.js';

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * Bytes of lines waiting for the disk, a file. 16 pipe-fulls: a flooding child's burst rides out
 * a disk pausing for tens of milliseconds, and keepalive's memory stays a small part of its own.
 */
export const QUEUE_LIMIT = 1024 * 1024;
/** Room kept for one chunk of a pipe's lines: below it, a chunk is dropped without being copied. */
const FULL_MARGIN = 128 * 1024;
/** Bytes handed to one writev(): few system calls for a flood, and rotation checked between. */
const WRITE_MAX = 256 * 1024;
/** After a failed write, the next try: a full disk is not asked again and again. */
const RETRY_MS = 200;
/** A steady flood on a slow disk drops lines all along: it is said at most this often. */
const REPORT_EVERY_MS = 10_000;
/** How often rotated files are checked for --output-max-age between rotations. */
const AGE_CHECK_MS = 60_000;
/** A new FILE's mode: the child's output may hold what only its owner should read. */
const FILE_MODE = 0o600;

interface Batch {
  bytes: Buffer;
  lines: number;
}

/** What the writer says: dropped lines once writing works again, names left alone, failures. */
export type WriterNews =
  | { kind: 'dropped'; file: string; lines: number; reason: string }
  | { kind: 'left-alone'; file: string; name: string; why: string }
  | { kind: 'failed'; file: string; message: string };

export interface WriterCounts {
  /** Lines and bytes written to the file. */
  lines: number;
  bytes: number;
  /** Lines dropped (never written), since the start. */
  dropped: number;
  rotations: number;
  /** Bytes waiting now, and the most that ever waited. */
  queued: number;
  mostQueued: number;
}

export class FileWriter {
  readonly path: string;
  readonly #settings: FileOutputSettings;
  readonly #tell: (news: WriterNews) => void;
  readonly #compressor: Compressor | undefined;
  #fd: number;
  /** FILE's size as written: only keepalive appends to it. */
  #size: number;
  /** The size at which FILE is rotated (further on while a rotation cannot be made). */
  #limit: number;
  readonly #queue: Batch[] = [];
  #queued = 0;
  #writing = false;
  #retry: NodeJS.Timeout | undefined;
  /** The error code of the last failed write, while writing fails. */
  #failing: string | undefined;
  /** Dropped and not yet said, and why. */
  #unsaid = 0;
  #unsaidReason: string | undefined;
  #saidAt = 0;
  #rotateWaiters: Array<() => void> = [];
  #rotateAsked = false;
  /** Lossless: readers waiting for room. */
  #roomWaiters: Array<() => void> = [];
  #drainWaiters: Array<() => void> = [];
  readonly #saidForeign = new Set<string>();
  #ageTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #fileClosed = false;
  readonly counts: WriterCounts = {
    lines: 0,
    bytes: 0,
    dropped: 0,
    rotations: 0,
    queued: 0,
    mostQueued: 0,
  };

  /** Opens FILE (the checks --log-file gets): throws when it is refused. */
  constructor(path: string, settings: FileOutputSettings, tell: (news: WriterNews) => void) {
    this.path = path;
    this.#settings = settings;
    this.#tell = tell;
    finishInterrupted(path, settings.keep);
    this.#fd = openForAppend(path, FILE_MODE);
    this.#size = fstatSync(this.#fd).size;
    this.#limit = settings.maxSize;
    if (settings.compress) {
      this.#compressor = new Compressor(path, (message) =>
        tell({ kind: 'failed', file: path, message }),
      );
      for (const index of uncompressed(path, settings.keep)) this.#compressor.add(index);
    }
    if (settings.maxAge !== undefined) {
      this.#removeOld();
      this.#ageTimer = setInterval(
        () => this.#removeOld(),
        Math.min(settings.maxAge, AGE_CHECK_MS),
      );
      this.#ageTimer.unref();
    }
  }

  get dropped(): number {
    return this.counts.dropped;
  }

  /**
   * Queues a batch of whole lines. Lossless: a promise while the queue is over its bound (the
   * reader waits). Otherwise a batch that does not fit is dropped and counted.
   */
  add(bytes: Buffer, lines: number): Promise<void> | undefined {
    if (this.#closed) {
      this.#drop(lines, 'keepalive is ending');
      return undefined;
    }
    if (!this.#settings.lossless && this.#queued + bytes.length > QUEUE_LIMIT) {
      this.#drop(lines, this.#failing ?? 'the file could not keep up');
      return undefined;
    }
    this.#queue.push({ bytes, lines });
    this.#queued += bytes.length;
    this.counts.queued = this.#queued;
    if (this.#queued > this.counts.mostQueued) this.counts.mostQueued = this.#queued;
    this.#kick();
    if (!this.#settings.lossless || this.#queued <= QUEUE_LIMIT) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /**
   * No room for another chunk's lines (a pipe's 64 KiB and their prefixes): the reader counts
   * them as dropped (drop()) rather than copy them first. Never, lossless.
   */
  get full(): boolean {
    return !this.#settings.lossless && this.#queued + FULL_MARGIN > QUEUE_LIMIT;
  }

  /** Lines of the child's that were never queued (see full). */
  drop(lines: number): void {
    this.#drop(lines, this.#failing ?? 'the file could not keep up');
  }

  /** Rotates now (`keepalive rotate`); settles once done. An empty FILE is left as it is. */
  rotate(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#rotateAsked = true;
    const done = new Promise<void>((resolve) => this.#rotateWaiters.push(resolve));
    this.#kick();
    return done;
  }

  /**
   * Writes what is queued (unless writing fails: then it is dropped and said), closes FILE, and
   * waits for a compression under way, `ms` at most.
   */
  async close(ms = 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ageTimer);
    if (this.#failing === undefined && (this.#queue.length > 0 || this.#writing)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#drainWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
      ]);
      clearTimeout(timer);
    }
    clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const batch of this.#queue.splice(0))
      this.#drop(batch.lines, this.#failing ?? 'keepalive is ending');
    this.#queued = 0;
    this.#wakeReaders();
    this.#say(true);
    for (const waiter of this.#rotateWaiters.splice(0)) waiter();
    // A write under way holds the descriptor: it is closed when that write ends (see #idle).
    if (!this.#writing) this.#closeFile();
    await this.#compressor?.close(ms);
  }

  #drop(lines: number, reason: string): void {
    this.counts.dropped += lines;
    this.#unsaid += lines;
    this.#unsaidReason ??= reason;
  }

  /** Says the lines dropped since it was last said: when writing works again, or now. */
  #say(now = false): void {
    if (this.#unsaid === 0) return;
    const at = Date.now();
    if (!now && this.#queue.length > 0 && at - this.#saidAt < REPORT_EVERY_MS) return;
    this.#tell({
      kind: 'dropped',
      file: this.path,
      lines: this.#unsaid,
      reason: this.#unsaidReason ?? 'unknown',
    });
    this.#unsaid = 0;
    this.#unsaidReason = undefined;
    this.#saidAt = at;
  }

  #kick(): void {
    if (this.#writing || this.#retry !== undefined) return;
    this.#writing = true;
    this.#drain();
  }

  /** Writes batches until the queue is empty; one writev() at a time, rotating between. */
  #drain(): void {
    if (this.#closed && this.#failing !== undefined) return this.#idle();
    if (this.#rotateAsked) {
      this.#rotateAsked = false;
      if (this.#size > 0) this.#rotate();
      for (const waiter of this.#rotateWaiters.splice(0)) waiter();
    }
    const parts = this.#take();
    if (parts === undefined) {
      this.#rotate();
      return this.#drain();
    }
    if (parts.length === 0) return this.#idle();
    const total = parts.reduce((sum, part) => sum + part.bytes.length, 0);
    const before = this.#size;
    writeAll(
      this.#fd,
      parts.map((part) => part.bytes),
      (error) => {
        const lines = parts.reduce((sum, part) => sum + part.lines, 0);
        this.#queued -= total;
        this.counts.queued = this.#queued;
        if (error === undefined) {
          this.#size += total;
          this.counts.bytes += total;
          this.counts.lines += lines;
          this.#failing = undefined;
          this.#say();
        } else {
          this.#failed(error, parts, before, total);
        }
        this.#wakeReaders();
        if (this.#closed && this.#failing === undefined && this.#queue.length === 0)
          return this.#idle();
        if (this.#retry !== undefined) {
          this.#writing = false;
          return;
        }
        this.#drain();
      },
    );
  }

  /** A failed write: the file cut back to its last whole line; the lines dropped or kept. */
  #failed(error: NodeJS.ErrnoException, parts: Batch[], before: number, total: number): void {
    try {
      ftruncateSync(this.#fd, before);
    } catch {
      // A read-only file system refuses this too; it wrote nothing then.
    }
    this.#failing = error.code ?? error.message;
    if (this.#settings.lossless && !this.#closed) {
      this.#queue.unshift(...parts);
      this.#queued += total;
      this.counts.queued = this.#queued;
    } else {
      for (const part of parts) this.#drop(part.lines, this.#failing);
    }
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#kick();
    }, RETRY_MS);
    this.#retry.unref();
  }

  #idle(): void {
    this.#writing = false;
    if (this.#closed) this.#closeFile();
    for (const waiter of this.#drainWaiters.splice(0)) waiter();
  }

  #closeFile(): void {
    if (this.#fileClosed) return;
    this.#fileClosed = true;
    closeSync(this.#fd);
  }

  #wakeReaders(): void {
    if (this.#queued > QUEUE_LIMIT / 2 && !this.#closed) return;
    for (const waiter of this.#roomWaiters.splice(0)) waiter();
  }

  /**
   * The next write's batches, taken off the queue (split at a line boundary where FILE's room
   * ends); undefined: FILE must be rotated first.
   */
  #take(): Batch[] | undefined {
    const parts: Batch[] = [];
    let total = 0;
    while (this.#queue.length > 0 && total < WRITE_MAX) {
      const batch = this.#queue[0] as Batch;
      const room = this.#limit - this.#size - total;
      if (batch.bytes.length <= room) {
        parts.push(batch);
        this.#queue.shift();
        total += batch.bytes.length;
        continue;
      }
      if (total > 0) break;
      // As many whole lines as fit; in an empty FILE, at least one (a line longer than SIZE).
      let cut = room > 0 ? batch.bytes.lastIndexOf(10, room - 1) : -1;
      if (cut < 0 && this.#size === 0) cut = batch.bytes.indexOf(10);
      if (cut < 0) return undefined;
      const first = batch.bytes.subarray(0, cut + 1);
      const lines = countLines(first);
      parts.push({ bytes: first, lines });
      batch.bytes = batch.bytes.subarray(cut + 1);
      batch.lines -= lines;
      // The rest stays queued (and counted in #queued) until it is written.
      break;
    }
    return parts;
  }

  /** FILE -> FILE.1 ... and a new FILE, with FILE's mode. */
  #rotate(): void {
    let shifted;
    try {
      shifted = shiftNames(this.path, this.#settings.keep);
    } catch (error) {
      this.#tell({
        kind: 'failed',
        file: this.path,
        message: `cannot rotate ${this.path}: ${(error as Error).message}`,
      });
      this.#limit = this.#size + this.#settings.maxSize;
      return;
    }
    if (shifted.foreign) this.#leftAlone(shifted.foreign);
    this.#compressor?.shifted(shifted.moved, shifted.removed);
    if (!shifted.rotated) {
      // Not rotated (FILE.1 is not ours): FILE goes on, and the next try is one SIZE later.
      this.#limit = this.#size + this.#settings.maxSize;
      return;
    }
    const mode = fstatSync(this.#fd).mode & 0o7777;
    const old = this.#fd;
    try {
      this.#fd = openNew(this.path, mode);
    } catch (error) {
      // Someone made a FILE between the two steps: it gets the checks any FILE gets.
      try {
        this.#fd = openForAppend(this.path, mode);
      } catch (again) {
        this.#tell({
          kind: 'failed',
          file: this.path,
          message: `cannot make a new ${this.path}: ${(again as Error).message}; ${(error as Error).message}`,
        });
        // The old file (now FILE.1) goes on; the next rotation tries again.
        this.#limit = this.#size + this.#settings.maxSize;
        return;
      }
    }
    closeSync(old);
    this.#size = fstatSync(this.#fd).size;
    this.#limit = this.#settings.maxSize;
    this.counts.rotations++;
    if (this.#settings.keep > 0) this.#compressor?.add(1);
    if (this.#settings.maxAge !== undefined) this.#removeOld();
  }

  #leftAlone(foreign: Foreign): void {
    if (this.#saidForeign.has(foreign.name)) return;
    this.#saidForeign.add(foreign.name);
    this.#tell({ kind: 'left-alone', file: this.path, name: foreign.name, why: foreign.why });
  }

  #removeOld(): void {
    const maxAge = this.#settings.maxAge;
    if (maxAge === undefined) return;
    try {
      const removed = removeOld(this.path, this.#settings.keep, Date.now() - maxAge);
      if (removed.length > 0) this.#compressor?.shifted(0, removed);
    } catch (error) {
      this.#tell({ kind: 'failed', file: this.path, message: (error as Error).message });
    }
  }
}

/** A new FILE, exclusively: never a name someone else made meanwhile. */
function openNew(path: string, mode: number): number {
  const fd = openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK, mode);
  fchmodSync(fd, mode);
  return fd;
}

function countLines(bytes: Buffer): number {
  let lines = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) lines++;
  return lines;
}

/** writev() until every byte is written (it may write fewer); the first error ends it. */
function writeAll(
  fd: number,
  buffers: Buffer[],
  done: (error: NodeJS.ErrnoException | undefined) => void,
): void {
  writev(fd, buffers, (error, written) => {
    if (error) return done(error);
    let left = written;
    while (buffers.length > 0 && left >= (buffers[0] as Buffer).length) {
      left -= (buffers[0] as Buffer).length;
      buffers.shift();
    }
    if (buffers.length === 0) return done(undefined);
    buffers[0] = (buffers[0] as Buffer).subarray(left);
    writeAll(fd, buffers, done);
  });
}
