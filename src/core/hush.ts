// When the watchdog leaves a beating child's pipe unread, and how it dates what it then finds.
// Each write to the pipe wakes keepalive (about 0.2 ms of CPU on a small VM); a child beating every
// 300 ms under a 1 s heartbeat woke it 130 times in 30 s. A pipe that keeps its last write's time
// can be hushed instead: no wake-up per write, one look at the deadline, which is then as exact as
// before. Only beats are hushed: anything else the child says makes the pipe ring again.
// Pure: times are the watchdog's monotonic milliseconds.

/** The longest a hushed pipe goes unread: what the child says meanwhile waits this long at most. */
export const LOOK_MS = 1000;

/**
 * A chunk this large rings again: a child beating that fast would fill the pipe (64 KiB) between
 * looks and wait on its write.
 */
export const HUSH_MAX_BYTES = 4096;

/** The FIFO's time is the kernel's coarse clock, up to a tick (10 ms at 100 Hz) behind the write. */
const COARSE_MS = 10;

/**
 * More than this between the wall clock and the monotonic one from one look to the next is a step
 * of the wall clock (NTP's slewing moves it by 0.5 ms a second at most): the FIFO's time, a wall
 * clock's, is then no measure of when the bytes came.
 */
const CLOCK_STEP_MS = 2;

export interface Chunk {
  at: number;
  /** Only heartbeats (dropped lines count as nothing): nothing that needs an answer before the deadline. */
  beatsOnly: boolean;
  bytes: number;
}

/**
 * Whether a ringing pipe may be hushed after this chunk: beats only, less than a look after the
 * chunk before (a slower beater costs fewer wake-ups ringing than looked at), and at a pace that
 * piles up at most HUSH_MAX_BYTES in a look (a faster one would fill the pipe and wait on it).
 */
export function mayHush(chunk: Chunk, previousAt: number): boolean {
  const gap = chunk.at - previousAt;
  return chunk.beatsOnly && gap < LOOK_MS && (chunk.bytes * LOOK_MS) / Math.max(gap, 1) <= HUSH_MAX_BYTES;
}

/** Whether the wall clock stepped between two looks, each given as wall minus monotonic time. */
export function clockStepped(offsetBefore: number, offsetNow: number): boolean {
  return Math.abs(offsetNow - offsetBefore) > CLOCK_STEP_MS;
}

/** Whether a look's chunk makes the pipe ring again. */
export function mustListen(chunk: Chunk): boolean {
  return !chunk.beatsOnly || chunk.bytes > HUSH_MAX_BYTES;
}

/**
 * When a hushed pipe's bytes were written: `agoMs` before `now` by the kernel's wall clock, counted
 * a coarse tick late rather than early. They came after the last look found it empty (`lookedAt`);
 * a wall clock that jumped since (or no time at all) says `now`: a verdict may come late, never early.
 */
export function writtenAt(now: number, agoMs: number | undefined, lookedAt: number): number {
  if (agoMs === undefined) return now;
  const at = stampAt(now, agoMs);
  return at >= lookedAt && at <= now ? at : now;
}

/** The FIFO's stamp `agoMs` before `now`, on the monotonic clock, a coarse tick late. */
function stampAt(now: number, agoMs: number): number {
  return now - agoMs + COARSE_MS;
}

/**
 * A look that found nothing: the kernel stamps a FIFO's write once its data is readable, so a beat
 * read at the last look may carry its time only now. That time, if it is later than the last beat
 * counted (and not in the future); else undefined.
 */
export function lateStampAt(now: number, agoMs: number | undefined, lastBeatAt: number): number | undefined {
  if (agoMs === undefined) return undefined;
  const at = Math.min(now, stampAt(now, agoMs));
  return at > lastBeatAt + CLOCK_STEP_MS ? at : undefined;
}

/** When to look at a hushed pipe next: at the deadline, and never more than LOOK_MS after the last look. */
export function lookAt(deadline: number, lookedAt: number): number {
  return Math.min(deadline, lookedAt + LOOK_MS);
}
