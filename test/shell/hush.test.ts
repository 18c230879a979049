// The watchdog with a hushed pipe, against a stamped pipe of the test's own whose writes are stamped
// by the wall clock keepalive reads (Date.now): a step of that clock moves both, as a step of the
// system clock moves keepalive's Date.now and the kernel's FIFO times alike.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildPipe, TakeChunk } from '../../src/shell/pipe-reader.js';
import { watchChild, type WatchdogEvents } from '../../src/shell/watchdog.js';

class StampedPipe implements ChildPipe {
  readonly stamped = true;
  readonly ended = new Promise<void>(() => {});
  hushedAt: number | undefined;
  looks = 0;
  #take: TakeChunk | undefined;
  #queued = 0;
  #stamp = Date.now();

  /** One beat from the child: stamped now, read at once unless hushed. */
  write(): void {
    this.#queued++;
    this.#stamp = Date.now();
    if (this.hushedAt === undefined) this.#deliver();
  }

  read(take: TakeChunk): void {
    this.#take = take;
    this.#deliver();
  }

  isEnded(): boolean {
    return false;
  }

  close(): void {}

  hush(): void {
    this.hushedAt ??= performance.now();
  }

  look(): void {
    this.looks++;
    this.#deliver();
  }

  writtenAgoMs(): number | undefined {
    return Date.now() - this.#stamp;
  }

  listen(): void {
    if (this.hushedAt === undefined) return;
    this.hushedAt = undefined;
    this.#deliver();
  }

  #deliver(): void {
    if (this.#take === undefined || this.#queued === 0) return;
    const chunk = Buffer.alloc(this.#queued, '\n');
    this.#queued = 0;
    this.#take(chunk, chunk.length, this.hushedAt === undefined ? undefined : this.writtenAgoMs());
  }
}

const ignore = (): void => {};

test.serial('a wall-clock step between a beat and the look that reads it kills no beating child: that look dates it now', async (t) => {
  const realNow = Date.now;
  let step = 0;
  Date.now = () => realNow() + step;
  t.teardown(() => {
    Date.now = realNow;
  });
  const hangs: string[] = [];
  const events: WatchdogEvents = {
    ready: ignore, reloading: ignore, reloaded: ignore, mainPid: ignore, status: ignore, stopping: ignore, timeout: ignore, dropped: ignore,
    hang: (hang) => hangs.push(`${hang.reason} after ${Math.round(hang.silentMs)} ms`),
  };
  const pipe = new StampedPipe();
  const watchdog = watchChild({ channel: pipe, config: { timeoutMs: 2000, graceMs: 2000, stopTimeoutMs: 1000 }, now: () => performance.now(), events });
  // Two beats 100 ms apart hush the pipe; its next look comes a second later.
  pipe.write();
  await sleep(100);
  pipe.write();
  const hushedAt = pipe.hushedAt;
  if (hushedAt === undefined) return t.fail('not hushed after two quick beats');
  // A beat 850 ms in, then the wall clock steps 800 ms ahead, before the look at 1 s reads it. Dated
  // by that clock, the beat would look 800 ms older than it is, and its deadline come 800 ms early:
  // at 2.06 s, in the child's silence from 0.85 s to 2.2 s, which is shorter than the 2 s timeout.
  await sleep(hushedAt + 850 - performance.now());
  pipe.write();
  step = 800;
  const looksBefore = pipe.looks;
  await sleep(hushedAt + 2200 - performance.now());
  t.true(pipe.looks > looksBefore, 'no look between the step and the next beat');
  for (let beat = 0; beat < 5; beat++) {
    pipe.write();
    await sleep(300);
  }
  await watchdog.close();
  t.deepEqual(hangs, []);
});
