// --output-compress: a rotated file gzipped in the background (zlib on libuv's thread pool), one
// at a time, never in the way of the writing. The file is opened when it is rotated, so that later
// rotations moving its name do not matter; the .gz goes beside whatever name it has by then.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  unlinkSync,
  linkSync,
} from 'node:fs';
import { createReadStream, createWriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { rotatedName } from './file-names.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

interface Job {
  /** Its current number: FILE.index (moved up by each rotation). */
  index: number;
  fd: number;
  ino: number;
  mode: number;
  abort: AbortController;
}

let temporaries = 0;

export class Compressor {
  readonly #path: string;
  readonly #failed: (message: string) => void;
  readonly #jobs: Job[] = [];
  #running: Promise<void> | undefined;

  constructor(path: string, failed: (message: string) => void) {
    this.#path = path;
    this.#failed = failed;
  }

  /** FILE.index is to be gzipped: opened now, compressed when the ones before it are done. */
  add(index: number): void {
    const name = rotatedName(this.#path, index);
    let fd: number;
    try {
      fd = openSync(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      this.#failed(`cannot compress ${name}: ${(error as Error).message}`);
      return;
    }
    const stats = fstatSync(fd);
    this.#jobs.push({
      index,
      fd,
      ino: stats.ino,
      mode: stats.mode & 0o7777,
      abort: new AbortController(),
    });
    this.#running ??= this.#work();
  }

  /** Every name moved up by one (a rotation); jobs past `keep` are dropped with their files. */
  shifted(moved: number, removed: readonly number[]): void {
    for (const job of [...this.#jobs]) {
      if (removed.includes(job.index)) this.#cancel(job);
      else if (job.index <= moved) job.index++;
    }
  }

  /** Settles once every job is done, or after `ms`, when the rest are given up. */
  async close(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([this.#running, late]);
    clearTimeout(timer);
    for (const job of [...this.#jobs]) this.#cancel(job);
    await this.#running;
  }

  #cancel(job: Job): void {
    job.abort.abort();
    const at = this.#jobs.indexOf(job);
    if (at < 0) return;
    this.#jobs.splice(at, 1);
    // The running job closes its own descriptor when its pipeline ends.
    if (at > 0 || this.#running === undefined) closeQuietly(job.fd);
  }

  async #work(): Promise<void> {
    for (let job = this.#jobs[0]; job !== undefined; job = this.#jobs[0]) {
      await this.#compress(job);
      const at = this.#jobs.indexOf(job);
      if (at >= 0) this.#jobs.splice(at, 1);
    }
    this.#running = undefined;
  }

  async #compress(job: Job): Promise<void> {
    const temporary = join(
      dirname(this.#path),
      `.${basename(this.#path)}.${process.pid}.${++temporaries}.gz.tmp`,
    );
    let out: number;
    try {
      out = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, job.mode);
    } catch (error) {
      closeQuietly(job.fd);
      this.#failed(
        `cannot compress ${rotatedName(this.#path, job.index)}: ${(error as Error).message}`,
      );
      return;
    }
    try {
      await pipeline(
        createReadStream('', { fd: job.fd, autoClose: true }),
        createGzip(),
        createWriteStream('', { fd: out, autoClose: true }),
        { signal: job.abort.signal },
      );
    } catch (error) {
      // The streams closed both descriptors (autoClose): closing them again could close another.
      unlinkQuietly(temporary);
      if (!job.abort.signal.aborted)
        this.#failed(
          `cannot compress ${rotatedName(this.#path, job.index)}: ${(error as Error).message}`,
        );
      return;
    }
    // Where the file is now (rotations may have moved it while it was read); still that file.
    const name = rotatedName(this.#path, job.index);
    try {
      if (job.abort.signal.aborted || lstatSync(name).ino !== job.ino) return;
      linkSync(temporary, rotatedName(this.#path, job.index, '.gz'));
      unlinkSync(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#failed(`cannot compress ${name}: ${(error as Error).message}`);
    } finally {
      unlinkQuietly(temporary);
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Closed already.
  }
}

function unlinkQuietly(name: string): void {
  try {
    unlinkSync(name);
  } catch {
    // Gone already.
  }
}
