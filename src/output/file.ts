// --output FILE: the child's stdout and stderr lines appended to a file (stderr's to its own with
// --output-stderr), as written, with a time in front (--timestamps) or as a JSON object a line
// (--output-format json). The writing, rotating and dropping are file-writer.ts's; this file
// turns lines into a file's bytes and keeps one writer a file across the child's runs.
import { resolve } from 'node:path';
import { readLines, type LineSink } from './lines.js';
import { FileWriter, type WriterCounts, type WriterNews } from './file-writer.js';
import type { FileOutputSettings, OutputTarget } from './types.js';

export type { WriterNews } from './file-writer.js';

/** FILE could not be opened or was refused: one line for the user. */
export class OutputFileError extends Error {
  override name = 'OutputFileError';
  readonly exitStatus = 1;
}

export interface FileOutputOptions extends FileOutputSettings {
  /** Put after the time in each line (several processes sharing a file); JSON's `name`. */
  label?: string | undefined;
  /** What the writers say (keepalive's own log lines). */
  tell?: (news: WriterNews) => void;
}

/** The files' counts together (the benchmark reads them; KEEPALIVE_OUTPUT_DROPPED). */
export type OutputCounts = WriterCounts;

export class FileOutput implements OutputTarget {
  readonly #options: FileOutputOptions;
  readonly #out: FileWriter;
  readonly #err: FileWriter;

  /** Opens FILE (and --output-stderr's): refused as --log-file would be (OutputFileError). */
  constructor(options: FileOutputOptions) {
    this.#options = options;
    const tell = options.tell ?? (() => {});
    this.#out = open(options.path, options, tell, '--output');
    try {
      this.#err =
        options.stderrPath === undefined || resolve(options.stderrPath) === resolve(options.path)
          ? this.#out
          : open(options.stderrPath, options, tell, '--output-stderr');
    } catch (error) {
      void this.#out.close(0);
      throw error;
    }
  }

  async follow(
    _who: { name: string; pid: number },
    streams: { stdout: import('node:stream').Readable; stderr: import('node:stream').Readable },
  ): Promise<void> {
    await Promise.all([
      readLines(streams.stdout, new FileLines(this.#out, 'stdout', this.#options)),
      readLines(streams.stderr, new FileLines(this.#err, 'stderr', this.#options)),
    ]);
  }

  /** Rotates every file now (`keepalive rotate`); settles once done. */
  async rotate(): Promise<void> {
    await Promise.all(this.#writers().map((writer) => writer.rotate()));
  }

  /** Lines dropped so far, all files together. */
  get dropped(): number {
    return this.#writers().reduce((sum, writer) => sum + writer.dropped, 0);
  }

  /** The counts, all files together. */
  counts(): OutputCounts {
    const total: OutputCounts = {
      lines: 0,
      bytes: 0,
      dropped: 0,
      rotations: 0,
      queued: 0,
      mostQueued: 0,
    };
    for (const writer of this.#writers())
      for (const key of Object.keys(total) as Array<keyof OutputCounts>)
        total[key] += writer.counts[key];
    return total;
  }

  /** Writes what is queued, closes the files; `ms` at most for the disk and the compression. */
  async close(ms?: number): Promise<void> {
    await Promise.all(this.#writers().map((writer) => writer.close(ms)));
  }

  #writers(): FileWriter[] {
    return this.#err === this.#out ? [this.#out] : [this.#out, this.#err];
  }
}

function open(
  path: string,
  settings: FileOutputSettings,
  tell: (news: WriterNews) => void,
  flag: string,
): FileWriter {
  try {
    return new FileWriter(path, settings, tell);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // O_NOFOLLOW says ELOOP for a symbolic link at the name itself.
    const why =
      code === 'EUNTRUSTED'
        ? message
        : code === 'ELOOP'
          ? `${path}: it is a symbolic link`
          : `${path}: ${message.replace(/^[A-Z]+: /, '')}`;
    throw new OutputFileError(`cannot open ${flag} ${why}`);
  }
}

/** One stream's lines, formatted into one buffer a chunk and handed to its file at flush(). */
class FileLines implements LineSink {
  readonly #writer: FileWriter;
  readonly #stream: 'stdout' | 'stderr';
  readonly #json: boolean;
  readonly #timestamps: boolean;
  readonly #label: string | undefined;
  #batch: Buffer | undefined;
  #length = 0;
  #lines = 0;
  /** The last batch's size: the next one's first buffer is twice it (a flood's are alike). */
  #last = 512;
  /** This chunk's time (one read, one time), made at its first line. */
  #time: string | undefined;
  #prefix: Buffer | undefined;
  /** This chunk's lines are being dropped. */
  #dropping = false;

  constructor(writer: FileWriter, stream: 'stdout' | 'stderr', options: FileOutputOptions) {
    this.#writer = writer;
    this.#stream = stream;
    this.#json = options.format === 'json';
    this.#timestamps = options.timestamps;
    this.#label = options.label;
  }

  line(bytes: Buffer, start: number, end: number, continued: boolean): void {
    // The file is full: this chunk's lines are counted, not copied (whole chunks, so whole lines).
    if (this.#length === 0 && this.#lines === 0) this.#dropping = this.#writer.full;
    if (this.#dropping) {
      this.#lines++;
      return;
    }
    if (this.#json) return this.#add(Buffer.from(this.#record(bytes, start, end, continued)));
    if (!this.#timestamps) return this.#add(undefined, bytes, start, end);
    this.#prefix ??= Buffer.from(
      `${this.#now()} ${this.#label === undefined ? '' : `${this.#label} | `}`,
    );
    this.#add(this.#prefix, bytes, start, end);
  }

  flush(): Promise<void> | undefined {
    this.#time = undefined;
    this.#prefix = undefined;
    if (this.#dropping) {
      this.#writer.drop(this.#lines);
      this.#lines = 0;
      this.#dropping = false;
      return undefined;
    }
    if (this.#length === 0) return undefined;
    const batch = (this.#batch as Buffer).subarray(0, this.#length);
    const lines = this.#lines;
    // The file keeps the batch until it is written: the next lines go into a new one.
    this.#batch = undefined;
    this.#last = this.#length;
    this.#length = 0;
    this.#lines = 0;
    return this.#writer.add(batch, lines);
  }

  #now(): string {
    this.#time ??= new Date().toISOString();
    return this.#time;
  }

  #record(bytes: Buffer, start: number, end: number, continued: boolean): string {
    const fields: Record<string, unknown> = { time: this.#now(), stream: this.#stream };
    if (this.#label !== undefined) fields['name'] = this.#label;
    fields['line'] = bytes.toString('utf8', start, end);
    if (continued) fields['continued'] = true;
    return JSON.stringify(fields);
  }

  /** prefix + bytes[start, end) + "\n" (or all of `line` when there is no `bytes`). */
  #add(prefix: Buffer | undefined, bytes?: Buffer, start = 0, end = 0): void {
    const length = (prefix?.length ?? 0) + (bytes === undefined ? 0 : end - start);
    let batch = this.#batch;
    if (batch === undefined || this.#length + length + 1 > batch.length)
      batch = this.#grow(length + 1);
    let at = this.#length;
    if (prefix !== undefined) {
      batch.set(prefix, at);
      at += prefix.length;
    }
    if (bytes !== undefined) {
      batch.set(bytes.subarray(start, end), at);
      at += end - start;
    }
    batch[at++] = 10;
    this.#length = at;
    this.#lines++;
  }

  #grow(needed: number): Buffer {
    const old = this.#batch;
    // Doubled when it outgrows its buffer; a new batch starts a little above the last one.
    const grown = old === undefined ? this.#last + (this.#last >> 2) : old.length * 2;
    const size = Math.max(1024, this.#length + needed, grown);
    const batch = Buffer.allocUnsafe(size);
    old?.copy(batch, 0, 0, this.#length);
    this.#batch = batch;
    return batch;
  }
}
