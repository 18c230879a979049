// A child's output as whole lines, whatever the chunks its pipe gave: split on "\n", a last line
// without one given when the pipe closes, a line past MAX_LINE given in pieces. Where the lines go
// (a name prefix on keepalive's stdout, a file) is the sink's: this file knows nothing of either.
import type { Readable } from 'node:stream';

/**
 * The longest line given whole; a longer one comes in pieces of this size. A pipe's default
 * capacity: any log line seen in practice (a JSON record, a stack trace line) fits, and a process
 * that writes endless bytes without "\n" holds at most this much of keepalive's memory a stream.
 */
export const MAX_LINE = 64 * 1024;

/** Where lines go: called for each line in order, then flush() once the chunk's lines are given. */
export interface LineSink {
  /**
   * One line, without its "\n": bytes [start, end) of `bytes`, valid during the call only.
   * `continued`: this piece continues the line before it, which was cut at MAX_LINE.
   */
  line(bytes: Buffer, start: number, end: number, continued: boolean): void;
  /**
   * Optional, for speed: several whole lines at once, bytes [start, end) of `bytes`, each line
   * ending with its "\n", none longer than MAX_LINE, none continuing a cut one. Valid during the
   * call only. Without it, each of these lines is given to line().
   */
  lines?(bytes: Buffer, start: number, end: number): void;
  /**
   * The lines given so far can be written out now (one write). A promise: the reader waits for it
   * before it reads more (the sink is full), so the child waits on its pipe and nothing is lost.
   */
  flush(): Promise<void> | undefined;
}

/** Cuts a byte stream into lines for a sink. Holds at most MAX_LINE bytes of an unfinished line. */
export class LineSplitter {
  readonly #sink: LineSink;
  /** The unfinished line's bytes so far (allocated only while there is one). */
  #held: Buffer | undefined;
  #heldLength = 0;
  /** The line being held continues one that was cut. */
  #continued = false;

  constructor(sink: LineSink) {
    this.#sink = sink;
  }

  /** Gives the sink every line `chunk` finishes; keeps what follows the last "\n". */
  push(chunk: Buffer, length = chunk.length): void {
    let start = 0;
    if (this.#heldLength > 0) {
      const newline = indexOfNewline(chunk, 0, length);
      const end = newline < 0 ? length : newline;
      while (start < end) start = this.#hold(chunk, start, end);
      if (newline < 0) return;
      this.#giveHeld();
      start = newline + 1;
    }
    for (;;) {
      if (this.#sink.lines !== undefined) {
        // Every line up to the last "\n" within MAX_LINE + 1 bytes fits whole: one call for all.
        const to = Math.min(length, start + MAX_LINE + 1);
        const last = start < to ? chunk.lastIndexOf(10, to - 1) : -1;
        if (last >= start) {
          this.#sink.lines(chunk, start, last + 1);
          start = last + 1;
          continue;
        }
      }
      const newline = indexOfNewline(chunk, start, length);
      if (newline < 0) break;
      // A line can be longer than MAX_LINE inside one chunk too (a chunk is up to 64 KiB + held).
      while (newline - start > MAX_LINE) {
        this.#sink.line(chunk, start, start + MAX_LINE, this.#continued);
        this.#continued = true;
        start += MAX_LINE;
      }
      this.#sink.line(chunk, start, newline, this.#continued);
      this.#continued = false;
      start = newline + 1;
    }
    this.#keep(chunk, start, length);
  }

  /** The stream has ended: an unfinished last line is a line. */
  end(): void {
    if (this.#heldLength > 0) this.#giveHeld();
    this.#held = undefined;
  }

  /** Holds [start, length) of `chunk`, giving a piece each time MAX_LINE is reached. */
  #keep(chunk: Buffer, start: number, length: number): void {
    while (start < length) start = this.#hold(chunk, start, length);
  }

  /** Copies what fits of [start, end) into the held line; gives it as a piece when it is full. */
  #hold(chunk: Buffer, start: number, end: number): number {
    const room = MAX_LINE - this.#heldLength;
    const take = Math.min(room, end - start);
    if (take > 0) {
      this.#held = grown(this.#held, this.#heldLength + take);
      chunk.copy(this.#held, this.#heldLength, start, start + take);
      this.#heldLength += take;
    }
    // Full, and more of the line follows: the piece goes now.
    if (this.#heldLength === MAX_LINE && start + take < end) {
      this.#giveHeld();
      this.#continued = true;
    }
    return start + take;
  }

  #giveHeld(): void {
    this.#sink.line(this.#held as Buffer, 0, this.#heldLength, this.#continued);
    this.#continued = false;
    this.#heldLength = 0;
    // A small line leaves a small buffer; a long one's is dropped so it does not stay held.
    if ((this.#held?.length ?? 0) > 4096) this.#held = undefined;
  }
}

function indexOfNewline(chunk: Buffer, from: number, length: number): number {
  const at = chunk.indexOf(10, from);
  return at >= length ? -1 : at;
}

/** A buffer of at least `size` bytes holding `held`'s bytes (itself when it is big enough). */
function grown(held: Buffer | undefined, size: number): Buffer {
  if (held !== undefined && held.length >= size) return held;
  const bigger = Buffer.allocUnsafe(
    Math.min(MAX_LINE, Math.max(size, (held?.length ?? 0) * 2, 256)),
  );
  held?.copy(bigger);
  return bigger;
}

/**
 * Reads `stream` to its end, giving its lines to `sink`; waits while the sink is full (the stream
 * is paused, so the child blocks on its pipe). Settles once the last line is flushed.
 */
export function readLines(stream: Readable, sink: LineSink): Promise<void> {
  const splitter = new LineSplitter(sink);
  return new Promise((resolve) => {
    let done = false;
    let waiting: Promise<void> | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      stream.off('data', onData);
      splitter.end();
      const last = sink.flush();
      void Promise.all([waiting, last]).then(() => resolve());
    };
    const onData = (chunk: Buffer): void => {
      splitter.push(chunk);
      const full = sink.flush();
      if (full === undefined) return;
      stream.pause();
      waiting = full.then(() => {
        waiting = undefined;
        if (!done) stream.resume();
      });
    };
    // The child's death may reset the pipe: an error ends the stream like its end does.
    stream.on('error', finish);
    stream.once('end', finish);
    stream.once('close', finish);
    stream.on('data', onData);
  });
}
