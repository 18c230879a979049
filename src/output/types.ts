// Where a child's stdout and stderr go when keepalive reads them instead of passing on its own
// (a set's prefixed lines; later, files). The output folder owns how; the run only hands over.
import type { Readable } from 'node:stream';

export interface OutputTarget {
  /** One run's stdout and stderr, read until both close; settles when every line is written. */
  follow(
    who: { name: string; pid: number },
    streams: { stdout: Readable; stderr: Readable },
  ): Promise<void>;
}

/** --output FILE and its options, resolved: how a file target writes and rotates. */
export interface FileOutputSettings {
  /** FILE: stdout's lines, and stderr's unless `stderrPath` is given. */
  path: string;
  /** --output-stderr: stderr's lines go to their own file, rotated the same way. */
  stderrPath: string | undefined;
  /** Bytes: a line that would take FILE past it goes into a new FILE (FILE -> FILE.1 ...). */
  maxSize: number;
  /** Rotated files kept (FILE.1 ... FILE.keep). */
  keep: number;
  /** Milliseconds: rotated files older than this are removed; undefined: by count only. */
  maxAge: number | undefined;
  /** Rotated files are gzipped (FILE.1.gz) in the background. */
  compress: boolean;
  /** Each line begins with its time (RFC 3339, milliseconds, UTC). */
  timestamps: boolean;
  /** text: the lines as written; json: {"time","stream","line"} a line. */
  format: 'text' | 'json';
  /** When FILE cannot keep up, the child waits (its pipe fills) rather than lines being dropped. */
  lossless: boolean;
}
