// A set's output on keepalive's own stdout and stderr, foreman's style: "web    | a line", the
// name padded to the longest of the set and coloured per process on a terminal. Each batch of whole
// lines is one write, so no line is ever torn or mixed with another process's bytes. A slow reader
// of keepalive's stdout pauses the children's pipes (lossless, as a shell pipeline is).
import type { Writable } from 'node:stream';
import type { ChalkInstance } from 'chalk';
import { colorLevel } from '../log.js';
import { readLines, type LineSink } from './lines.js';
import type { OutputTarget } from './types.js';

/** One colour a process, in the set's order; no red (keepalive's own errors are red). */
const PALETTE = [
  'cyan',
  'yellow',
  'green',
  'magenta',
  'blue',
  'cyanBright',
  'yellowBright',
  'greenBright',
  'magentaBright',
  'blueBright',
] as const;

/** Between the name and the line; CONTINUED: the line goes on from the one before (it was cut). */
const SEPARATOR = ' | ';
const CONTINUED = ' + ';

export interface PrefixedOutputOptions {
  /** Every name of the set: the prefix is padded to the longest, colours follow this order. */
  names: readonly string[];
  stdout?: Writable;
  stderr?: Writable;
  /**
   * chalk level (0: plain) for both streams. Left out: each stream's own answer (a terminal gets
   * colour; NO_COLOR and FORCE_COLOR are honoured as in keepalive's own lines).
   */
  color?: number;
  env?: NodeJS.ProcessEnv;
}

/** A target per name; `written()`: settles once both streams have written all they were given. */
export type PrefixedOutput = ((name: string) => OutputTarget) & { written(): Promise<void> };

/**
 * A target per name of the set; lines go to `stdout`/`stderr` (keepalive's own by default). A pipe
 * is written asynchronously: await written() before process.exit(), or the last lines are lost.
 */
export async function prefixedOutput(options: PrefixedOutputOptions): Promise<PrefixedOutput> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const levels = [stdout, stderr].map(
    (stream) => options.color ?? colorLevel(env, stream as Partial<NodeJS.WriteStream>),
  );
  const chalk = levels.some((level) => level > 0) ? (await import('chalk')).Chalk : undefined;
  const width = Math.max(0, ...options.names.map((name) => name.length));
  const out = new Shared(stdout);
  const err = new Shared(stderr);
  const prefixes = (name: string, level: number | undefined): Prefixes => {
    const at = options.names.indexOf(name);
    const paint = chalk && level ? new chalk({ level: level as 1 | 2 | 3 }) : undefined;
    const colour = PALETTE[(at < 0 ? options.names.length : at) % PALETTE.length] ?? 'cyan';
    const text = (separator: string): Buffer => {
      const plain = `${name.padEnd(width)}${separator.trimEnd()}`;
      return Buffer.from(`${paint ? (paint[colour] as ChalkInstance)(plain) : plain} `);
    };
    const line = text(SEPARATOR);
    // "$" is special in a replaceAll replacement: doubled, it stands for itself.
    const between = `\n${line.toString('latin1')}`.replaceAll('$', '$$$$');
    return { line, continued: text(CONTINUED), between };
  };
  const target = (name: string): OutputTarget => {
    const outPrefixes = prefixes(name, levels[0]);
    const errPrefixes = prefixes(name, levels[1]);
    return {
      async follow(_who, streams) {
        await Promise.all([
          readLines(streams.stdout, new PrefixedLines(outPrefixes, out)),
          readLines(streams.stderr, new PrefixedLines(errPrefixes, err)),
        ]);
      },
    };
  };
  return Object.assign(target, {
    written: async () => void (await Promise.all([out.written(), err.written()])),
  });
}

interface Prefixes {
  line: Buffer;
  continued: Buffer;
  /** "\n" and the line prefix as latin1 text (its UTF-8 bytes, one char each): see lines(). */
  between: string;
}

/**
 * One of keepalive's streams, shared by every process writing to it: full means every reader waits
 * for its 'drain'.
 */
class Shared {
  readonly #stream: Writable;
  #drained: Promise<void> | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
    // A closed stdout (EPIPE) loses lines; it must not end the supervising.
    stream.on('error', () => {});
  }

  /** Settles once the stream holds nothing more to write (or is closed). */
  async written(): Promise<void> {
    while (this.#stream.writableLength > 0 && !this.#stream.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#stream.off('drain', done);
          this.#stream.off('close', done);
          resolve();
        };
        this.#stream.on('drain', done);
        this.#stream.on('close', done);
      });
    }
  }

  /** Writes a batch; a promise while the stream holds more than it wants. */
  write(batch: Buffer): Promise<void> | undefined {
    const stream = this.#stream;
    if (stream.destroyed || !stream.writable) return undefined;
    const below = stream.write(batch);
    // A batch the pipe took whole at once leaves nothing held: no wait, though it was past the
    // mark (a batch is bigger than the stream's 16 KiB); waiting costs a pause and a resume.
    if ((below || stream.writableLength === 0) && this.#drained === undefined) return undefined;
    this.#drained ??= new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        this.#drained = undefined;
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
    return this.#drained;
  }
}

/** Lines with the process's prefix, gathered into one buffer a chunk and written at flush(). */
class PrefixedLines implements LineSink {
  readonly #prefixes: Prefixes;
  readonly #to: Shared;
  #batch: Buffer | undefined;
  #length = 0;
  /** The last batch's size: the next one's first buffer is twice it (a flood's are alike). */
  #last = 512;

  constructor(prefixes: Prefixes, to: Shared) {
    this.#prefixes = prefixes;
    this.#to = to;
  }

  line(bytes: Buffer, start: number, end: number, continued: boolean): void {
    const prefix = continued ? this.#prefixes.continued : this.#prefixes.line;
    const needed = prefix.length + (end - start) + 1;
    let batch = this.#batch;
    if (batch === undefined || this.#length + needed > batch.length) batch = this.#grow(needed);
    let at = this.#length;
    batch.set(prefix, at);
    at += prefix.length;
    batch.set(bytes.subarray(start, end), at);
    at += end - start;
    batch[at++] = 10;
    this.#length = at;
  }

  lines(bytes: Buffer, start: number, end: number): void {
    // As one-byte text (latin1: byte-exact for any bytes), V8's replaceAll prefixes all in one go.
    const text = bytes.toString('latin1', start, end - 1).replaceAll('\n', this.#prefixes.between);
    const prefix = this.#prefixes.line;
    const needed = prefix.length + text.length + 1;
    let batch = this.#batch;
    if (batch === undefined || this.#length + needed > batch.length) batch = this.#grow(needed);
    let at = this.#length;
    batch.set(prefix, at);
    at += prefix.length;
    at += batch.write(text, at, 'latin1');
    batch[at++] = 10;
    this.#length = at;
  }

  flush(): Promise<void> | undefined {
    if (this.#length === 0) return undefined;
    const batch = (this.#batch as Buffer).subarray(0, this.#length);
    // The stream keeps the batch until it is written: the next lines go into a new one.
    this.#batch = undefined;
    this.#last = this.#length;
    this.#length = 0;
    return this.#to.write(batch);
  }

  #grow(needed: number): Buffer {
    const old = this.#batch;
    // Doubled when a batch outgrows its buffer.
    const size = Math.max(1024, this.#length + needed, (old?.length ?? this.#last) * 2);
    const batch = Buffer.allocUnsafe(size);
    old?.copy(batch, 0, 0, this.#length);
    this.#batch = batch;
    return batch;
  }
}
