// A pipe from the child read without Node's stream machinery: net.Socket's `onread` reads every
// chunk into one buffer that all such pipes share, and hands it to the pipe's reader at once. A
// heartbeat then costs one read(2) and no allocation (a 'data' event costs a 64 KiB buffer, a Buffer
// object and a trip through the stream); 'end', 'error' and destroy() work as on any stream.
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Readable } from 'node:stream';

/** Sees `length` bytes of `chunk`, during the call only: the buffer is read into again after it. */
export type TakeChunk = (chunk: Buffer, length: number) => void;

/** One read's worth, as libuv reads a pipe; shared, since chunks are taken one at a time. */
const shared = Buffer.allocUnsafe(64 * 1024);

interface Reader {
  take: TakeChunk | undefined;
  /** Chunks read before a reader was set, copied. */
  early: Buffer[];
}

const readers = new WeakMap<Readable, Reader>();
/** The 'data' listeners readChunks put on other streams. */
const listeners = new WeakMap<Readable, (chunk: Buffer) => void>();

/** The read end of a pipe, as a stream that delivers its chunks to `readChunks`. */
export function pipeReader(fd: number): Socket {
  const reader: Reader = { take: undefined, early: [] };
  // `onread` is taken by the constructor too, though @types/node lists it only for connect().
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: shared,
      callback: (length: number, chunk: Uint8Array): boolean => {
        if (reader.take) {
          reader.take(chunk as Buffer, length);
          return true;
        }
        // Nobody reads yet: keep this chunk and stop reading (the child waits on a full pipe, as before).
        reader.early.push(Buffer.from(chunk.subarray(0, length)));
        return false;
      },
    },
  };
  const socket = new Socket(options);
  readers.set(socket, reader);
  return socket;
}

/** Gives each chunk of `stream` to `take`: a pipeReader's without copies, any other stream's from 'data'. */
export function readChunks(stream: Readable, take: TakeChunk): void {
  const reader = readers.get(stream);
  if (!reader) {
    const onData = (chunk: Buffer): void => take(chunk, chunk.length);
    listeners.set(stream, onData);
    stream.on('data', onData);
    return;
  }
  reader.take = take;
  for (const chunk of reader.early.splice(0)) take(chunk, chunk.length);
  stream.resume();
}

/**
 * Lets go of the reader. Node keeps a closed socket's wrapper until a full GC, and with it what it
 * reaches: the run that read it must not be kept too (it would survive every scavenge till then).
 */
export function stopReading(stream: Readable): void {
  const onData = listeners.get(stream);
  if (onData) stream.off('data', onData);
  const reader = readers.get(stream);
  if (!reader) return;
  reader.take = undefined;
  reader.early.length = 0;
}
