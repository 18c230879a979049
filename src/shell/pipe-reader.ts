// A pipe from the child, read without a Node handle. A Node socket over it (net.Socket) outlives
// its close until a full GC and keeps all it reached through every scavenge: one per run grew RSS
// by 20 MB over 10,000 restarts and cost each restart half a millisecond. So keepalive's end is
// non-blocking and rings: the kernel sends SIGIO to the main thread on each write and when the
// last writer closes, and one listener reads every open pipe until it would block. All pipes share
// one 64 KiB buffer: a heartbeat costs two read(2)s (the beat, then "would block") and no
// allocation. A pipe that keeps its last write's time (stamped-pipe.ts) can also be hushed: no
// wake-up per write, and the watchdog looks at it when its deadline comes. Where spawns go through
// Node's child_process (Windows), the child's pipe is a stream, read from its 'data' events.
import type { Readable } from 'node:stream';
import { closeFd, readInto, ringOnInput } from './native.js';
import { writtenAgoMs } from './stamped-pipe.js';

/**
 * Sees `length` bytes of `chunk`, during the call only: the buffer is read into again after it.
 * `agoMs`, in a hushed pipe's look: how long before the read the pipe was last written to.
 */
export type TakeChunk = (chunk: Buffer, length: number, agoMs?: number) => void;

/** keepalive's end of a pipe the child writes to. */
export interface ChildPipe {
  /** Gives each chunk to `take` as it comes; nothing is read before (the child waits on a full pipe). */
  read(take: TakeChunk): void;
  /** Settles when no writer is left (the child and all it passed the pipe to closed it), or at close(). */
  readonly ended: Promise<void>;
  /** Whether it has ended already: a wait for the end can be skipped (and keep nothing alive meanwhile). */
  isEnded(): boolean;
  /** Closes keepalive's end: nothing more is read. */
  close(): void;
  /** The pipe keeps its last write's time: it may be hushed. */
  readonly stamped: boolean;
  /** No wake-up per write from now on (a stamped pipe only): what comes waits for look() or listen(). */
  hush(): void;
  /** Reads what is there now; a hushed pipe's chunks come with how long ago the last write was. */
  look(): void;
  /** How long ago the pipe was last written to (a stamped pipe only; else undefined). */
  writtenAgoMs(): number | undefined;
  /** A wake-up per write again, and what came while hushed is read now. */
  listen(): void;
}

const shared = Buffer.allocUnsafe(64 * 1024);
/** Chunks read in one go before timers get a turn (the watchdog's deadline while a child floods). */
const BATCH = 32;
const EINTR = -4;
const EAGAIN = -11;

const open = new Set<NativePipe>();
let listening = false;
/** A signal listener does not keep Node's loop alive as a socket did: a timer that never fires does, while a pipe is open. */
let keepAlive: NodeJS.Timeout | undefined;

/** SIGIO: every open pipe is looked at, since the signal says neither which one rang nor who sent it. */
function ringPipes(): void {
  for (const pipe of open) pipe.rang();
}

/**
 * The read end of a pipe made by native.ts's pipe() or, `stamped`, stamped-pipe.ts's FIFO, before
 * the child that writes to it starts.
 */
export function nativePipe(fd: number, stamped = false): ChildPipe {
  return new NativePipe(fd, stamped);
}

class NativePipe implements ChildPipe {
  readonly ended: Promise<void>;
  readonly stamped: boolean;
  readonly #fd: number;
  #take: TakeChunk | undefined;
  #end: (() => void) | undefined;
  #closed = false;
  #ringing = true;
  #hushed = false;
  #draining = false;
  #later = false;

  constructor(fd: number, stamped: boolean) {
    this.#fd = fd;
    this.stamped = stamped;
    this.ended = new Promise((resolve) => (this.#end = resolve));
    // Never taken off: a SIGIO without a listener would end keepalive by its default action.
    if (!listening) process.on('SIGIO', ringPipes);
    listening = true;
    if (!ringOnInput(fd, true)) {
      closeFd(fd);
      throw new Error('fcntl(O_ASYNC) failed on the notify pipe');
    }
    open.add(this);
    (keepAlive ??= setInterval(() => {}, 2 ** 31 - 1)).ref();
  }

  read(take: TakeChunk): void {
    this.#take = take;
    this.drain();
  }

  /** SIGIO: this pipe or another rang. A hushed one waits for its look. */
  rang(): void {
    if (!this.#hushed) this.drain();
  }

  hush(): void {
    if (!this.stamped || this.#closed || this.#hushed) return;
    this.#hushed = true;
    this.#ring(false);
  }

  look(): void {
    this.drain(this.#hushed);
  }

  writtenAgoMs(): number | undefined {
    return this.stamped && !this.#closed ? writtenAgoMs(this.#fd) : undefined;
  }

  listen(): void {
    if (!this.#hushed) return;
    this.#hushed = false;
    if (this.#closed) return;
    this.#ring(true);
    // Called from a chunk's reader, inside a drain: that drain reads on.
    if (!this.#draining) this.drain();
  }

  /** Reads until the pipe would block; a batch at most, then the rest on the next loop turn. */
  /** `stamped`: each chunk comes with the pipe's time, read after the chunk (see #drain). */
  drain(stamped = false): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      this.#drain(stamped);
    } finally {
      this.#draining = false;
    }
  }

  #drain(stamped: boolean): void {
    const take = this.#take;
    if (this.#closed || take === undefined) return;
    for (let count = 0; count < BATCH; count++) {
      const got = readInto(this.#fd, shared);
      if (got > 0) {
        // The time after the read: the kernel stamps a FIFO's write once its data is readable, so
        // a time read before could be the write before it. One written since only counts late.
        take(shared, got, stamped ? writtenAgoMs(this.#fd) : undefined);
        if (this.#closed) return;
        // A look that found less than a buffer has read all there was; an end comes with listen().
        if (this.#hushed && got < shared.length) return;
        // Read on even after a short read: the last writer's close may have come with the data, and
        // its SIGIO with the data's (a signal pending twice is delivered once). Only a read tells.
        continue;
      }
      if (got === EINTR) continue;
      if (got !== EAGAIN) {
        // 0: no writer is left. Any other error: nothing more will come either.
        this.close();
        return;
      }
      // Empty now. While the pipe rings, its next write says so; after a flood it rings again,
      // and one more read takes what came in between. A hushed pipe waits for its next look.
      if (this.#ringing || this.#hushed) return;
      this.#ring(true);
    }
    // A flood: no signal for each of its writes; the loop's other work gets its turn first. (A
    // hushed pipe gets here only through full buffers, and the watchdog makes such a one listen.)
    this.#ring(false);
    if (this.#later) return;
    this.#later = true;
    setImmediate(() => {
      this.#later = false;
      this.drain();
    });
  }

  isEnded(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#take = undefined;
    open.delete(this);
    if (open.size === 0) keepAlive?.unref();
    closeFd(this.#fd);
    this.#end?.();
  }

  #ring(on: boolean): void {
    if (this.#ringing === on) return;
    this.#ringing = on;
    ringOnInput(this.#fd, on);
  }
}

/** Loop turns to wait for a pipe's end after the child's exit: a grandchild may hold it open for ever. */
const END_TURNS = 3;

/**
 * Waits for the pipe's end (the child's last words are read then), for a few loop turns at most.
 * The end settles it at once, not at the next turn's look (with only the look, the SIGIO-storm
 * test timed out once). Plain immediates, not timers/promises' (a promise and its wrapping for
 * each turn made 2 KB a restart), and out here, not in a caller's closure: a turn still pending
 * holds the pipe, not the caller's run.
 */
export function endOrTurns(pipe: ChildPipe): Promise<void> {
  // A hushed pipe's end would not ring.
  pipe.listen();
  if (pipe.isEnded()) return Promise.resolve();
  return new Promise((resolve) => {
    void pipe.ended.then(resolve);
    let turn = 0;
    const next = (): void => {
      if (pipe.isEnded() || ++turn >= END_TURNS) resolve();
      else setImmediate(next);
    };
    setImmediate(next);
  });
}

/** A child's pipe as Node's child_process gives it. */
export function streamPipe(stream: Readable): ChildPipe {
  // The child's death may reset the pipe: an error is its end too.
  stream.on('error', () => {});
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
  return {
    read: (take) => stream.on('data', (chunk: Buffer) => take(chunk, chunk.length)),
    ended,
    isEnded: () => stream.readableEnded || stream.destroyed,
    close: () => stream.destroy(),
    stamped: false,
    hush: () => {},
    look: () => {},
    writtenAgoMs: () => undefined,
    listen: () => {},
  };
}
