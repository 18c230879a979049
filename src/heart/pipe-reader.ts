// keepalive's end of a pipe the child writes to (the notify channel), read with Node's own I/O: a
// net.Socket over the fd, woken by the event loop's epoll when the child writes. Every chunk is
// read when it arrives, into one buffer shared by all pipes (net.Socket's `onread`), so a beat
// costs a wake-up and a read, and no allocation. Where spawns go through Node's child_process
// (Windows), the child's pipe is a stream, read from its 'data' events.
// The price: each run's socket is a few KB that V8 frees only at its next full GC, so in a
// zero-delay crash loop RSS climbs by some 20-30 MB over 10,000 restarts before a full GC. A
// native reader avoids that, but needs SIGIO and raw read(2), which cost more to maintain.
import { closeSync } from 'node:fs';
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Readable } from 'node:stream';

/** Sees `length` bytes of `chunk`, during the call only: the buffer is read into again after it. */
export type TakeChunk = (chunk: Buffer, length: number) => void;

/** keepalive's end of a pipe the child writes to. */
export interface ChildPipe {
  /** Gives each chunk to `take` as it comes; nothing is read before (the child waits on a full pipe). */
  read(take: TakeChunk): void;
  /** Settles when no writer is left (the child and all it passed the pipe to closed it), or at close(). */
  readonly ended: Promise<void>;
  /** Whether it has ended already: a wait for the end can be skipped. */
  isEnded(): boolean;
  /** Closes keepalive's end: nothing more is read. */
  close(): void;
}

/** A pipe holds 64 KiB by default: one read takes all a full pipe holds. */
const shared = Buffer.allocUnsafe(64 * 1024);

/** The read end of a pipe made by native.ts's pipe(), before the child that writes to it starts. */
export function nodePipe(fd: number): ChildPipe {
  let socket: Socket | undefined;
  let take: TakeChunk | undefined;
  let closed = false;
  let end: () => void = () => {};
  const ended = new Promise<void>((resolve) => (end = resolve));
  const close = (): void => {
    if (closed) return;
    closed = true;
    take = undefined;
    // The socket owns the fd once it exists; before that, the fd is closed by hand.
    if (socket) socket.destroy();
    else closeSync(fd);
    // A closed socket lives on until a full GC: what it still reaches (this run, through `end`'s
    // promise) must not live on with it.
    socket = undefined;
    const ending = end;
    end = () => {};
    ending();
  };
  return {
    read(reader) {
      take = reader;
      if (socket || closed) return;
      // libuv reads a pipe until it would block, 32 reads at most a turn: a flood leaves the timers
      // (the watchdog's deadline) their turn.
      // `onread` is in Node's documentation of the constructor, not yet in its types.
      const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
        fd,
        readable: true,
        writable: false,
        onread: {
          buffer: shared,
          callback: (length) => {
            take?.(shared, length);
            return true;
          },
        },
      };
      socket = new Socket(socketOptions);
      // The end of the pipe (no writer left) closes the socket; an error is an end too.
      socket.on('error', () => {});
      socket.once('close', close);
    },
    ended,
    isEnded: () => closed,
    close,
  };
}

/** Loop turns to wait for a pipe's end after the child's exit: a grandchild may hold it open for ever. */
const END_TURNS = 3;

/**
 * Waits for the pipe's end (the child's last words are read then), for a few loop turns at most.
 * The end settles it at once; the turns give the loop a chance to read what is still queued.
 */
export function endOrTurns(pipe: ChildPipe): Promise<void> {
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
  };
}
