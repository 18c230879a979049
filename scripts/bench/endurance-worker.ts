// Runs inside its own Node process: supervise() through N zero-delay restarts of /bin/true, and
// report memory and open files after restart 500 (start-up and the first growth of the heap are
// over) and at the end. A leak here is a bug, not a figure.
import { readdirSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { supervise } from '../../src/index.js';

const restarts = Number(process.argv[2] ?? 10_000);
const EARLY = Math.min(500, Math.floor(restarts / 2));
const sample = () => ({
  rssMb: process.memoryUsage().rss / 1024 / 1024,
  heapMb: process.memoryUsage().heapUsed / 1024 / 1024,
  // V8's young generation: it doubles as garbage survives its collections, up to a fixed cap.
  youngMb:
    (getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0) /
    1024 /
    1024,
  fds: readdirSync('/proc/self/fd').length,
});
let early: ReturnType<typeof sample> | undefined;
let end: ReturnType<typeof sample> | undefined;
// Unlimited restarts (the default): the window bookkeeping then keeps nothing, as in most real use.
const supervisor = supervise({ command: 'true', delay: 0 });
supervisor.on('spawn', (event) => {
  if (event.restarts === EARLY) {
    globalThis.gc?.();
    early = sample();
  }
  if (event.restarts === restarts) {
    globalThis.gc?.();
    end = sample();
    supervisor.stop();
  }
});
await supervisor.done;
process.stdout.write(`${JSON.stringify({ early, end })}\n`);
