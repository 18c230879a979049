// Waiting on another process's state, which sends no event: look again every few milliseconds.
import { setTimeout as sleep } from 'node:timers/promises';

/** True once `condition` holds, false if it still does not after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  everyMs = 25,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}
