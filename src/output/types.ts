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
