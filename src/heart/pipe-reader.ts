// keepalive's end of a pipe the child writes to (the notify channel), read without a Node handle:
// the kernel sends SIGIO to the main thread on each write and when the last writer closes, and one
// listener reads every open pipe with read(2) until it would block. Node's own I/O (a net.Socket
// over the fd) would do the same job, but each run's socket outlives its close until V8's next full
// GC: in a zero-delay crash loop, RSS grew by 17-19 MB through the API and 26-34 MB from the
// command line over 10,000 restarts; with this reader, 5-6 MB. All pipes share one 64 KiB buffer:
// a beat costs two read(2)s (the beat, then "would block") and no allocation. Where spawns go
// through Node's child_process (Windows), the child's pipe is a stream, read from 'data' events.
import type { Readable } from 'node:stream';
import { closeFd, readInto, ringOnInput } from '../native/native.js';

/** Sees `length` bytes of `chunk`, during the call only: the buffer is read into again after it. */
export type TakeChunk = (chunk: Buffer, length: number) => void;

/** keepalive's end of a pipe the child writes to. */
export interface ChildPipe {
  /**
   * Gives each chunk to `take` as it comes; nothing is read before (the child waits on a full
   * pipe).
   */
  read(take: TakeChunk): void;
  /**
   * Settles when no writer is left (the child and all it passed the pipe to closed it), or at
   * close().
   */
  readonly ended: Promise<void>;
  /** Whether it has ended already: a wait for the end can be skipped. */
  isEnded(): boolean;
  /** Closes keepalive's end: nothing more is read. */
  close(): void;
  /** Reads what the pipe holds now, without waiting for the loop (before a verdict). */
  readNow(): void;
}

/** A pipe holds 64 KiB by default: one read takes all a full pipe holds. */
const shared = Buffer.allocUnsafe(64 * 1024);
/** Reads in one go before the loop's other work (the watchdog's deadline) gets a turn. */
const BATCH = 32;
const EINTR = -4;
const EAGAIN = -11;

const open = new Set<NativePipe>();
/** Keeps Node's loop alive while a pipe is open (a signal listener does not): it never fires. */
let keepAlive: NodeJS.Timeout | undefined;

/** SIGIO says neither which pipe rang nor who sent it: every open pipe is read. */
function ringPipes(): void {
  for (const pipe of open) pipe.drain();
}

/** The read end of a pipe made by native.ts's pipe(), before the child that writes to it starts. */
export function nativePipe(fd: number): ChildPipe {
  return new NativePipe(fd);
}

class NativePipe implements ChildPipe {
  readonly ended: Promise<void>;
  readonly #fd: number;
  #take: TakeChunk | undefined;
  #end: (() => void) | undefined;
  #closed = false;
  #ringing = true;
  #draining = false;
  #later = false;

  constructor(fd: number) {
    this.#fd = fd;
    this.ended = new Promise((resolve) => (this.#end = resolve));
    // Before O_ASYNC: a SIGIO without a listener would end keepalive by its default action.
    if (open.size === 0) {
      process.on('SIGIO', ringPipes);
      keepAlive = setInterval(() => {}, 2 ** 31 - 1);
    }
    open.add(this);
    if (!ringOnInput(fd, true)) {
      this.close();
      throw new Error('fcntl(O_ASYNC) failed on the notify pipe');
    }
  }

  read(take: TakeChunk): void {
    this.#take = take;
    this.drain();
  }

  readNow(): void {
    this.drain();
  }

  /** Reads until the pipe would block: a batch at most, then the rest on the next loop turn. */
  drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      this.#drain();
    } finally {
      this.#draining = false;
    }
  }

  #drain(): void {
    const take = this.#take;
    if (this.#closed || take === undefined) return;
    for (let count = 0; count < BATCH; count++) {
      const got = readInto(this.#fd, shared);
      if (got > 0) {
        take(shared, got);
        if (this.#closed) return;
        // Read on even after a short read: the last writer's close may have come with the data,
        // and its SIGIO with the data's (a signal pending twice is delivered once).
        continue;
      }
      if (got === EINTR) continue;
      if (got !== EAGAIN) {
        // 0: no writer is left. Any other error: nothing more will come either.
        this.close();
        return;
      }
      // Empty now: the next write rings. After a flood it rings again, and one more read takes
      // what came before it did.
      if (this.#ringing) return;
      this.#ring(true);
    }
    // A flood: no signal for each of its writes; the loop's other work gets its turn first.
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
    closeFd(this.#fd);
    open.delete(this);
    // No pipe can ring any more: the host process keeps no listener or timer of keepalive's.
    if (open.size === 0) {
      process.removeListener('SIGIO', ringPipes);
      clearInterval(keepAlive);
      keepAlive = undefined;
    }
    this.#end?.();
    this.#end = undefined;
  }

  #ring(on: boolean): void {
    if (this.#ringing === on) return;
    this.#ringing = on;
    ringOnInput(this.#fd, on);
  }
}

/**
 * Loop turns to wait for a pipe's end after the child's exit: a grandchild may hold it open for
 * ever.
 */
const END_TURNS = 3;

/**
 * Waits for the pipe's end (the child's last words are read then), for a few loop turns at most.
 * The end settles it at once; the turns give the loop a chance to read what is still queued.
 */
export function readUntilEnd(pipe: ChildPipe): Promise<void> {
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
    // The stream reads on its own; what it has not read yet comes after the next poll.
    readNow: () => {},
  };
}
