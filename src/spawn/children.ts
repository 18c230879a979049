// keepalive waits for its own children itself, by pid, on SIGCHLD: the kernel's wait status is the
// only source that keeps real-time signals and the core-dump flag (Node reports a signal it has no
// name for as "exit code 0"). As PID 1 or a subreaper it also reaps the orphans that come to it.
// libuv's own children (anything started through child_process) are never waited for here: libuv
// waits for those by pid too, and a status taken from it would be lost.
import { readdirSync, readFileSync } from 'node:fs';
import { endedChild, hasEnded, waitpid, WNOHANG } from '../native/native.js';

export interface Reaped {
  pid: number;
  /** The raw wait(2) status word. */
  status: number;
}

const waiting = new Map<number, (status: number) => void>();
/** Called while such a child is a zombie, before it is reaped (see waitForChild). */
const beforeReaping = new Map<number, () => void>();
/** A run's main process named by MAINPID=: waited for once it is ours (see adopt()). */
const adopted = new Map<
  number,
  { isAlive: () => boolean; ours: () => void; resolve: (status: number | undefined) => void }
>();
/** Pids libuv spawned and waits for (child_process): off limits to the orphan scan. */
const libuvPids = new Set<number>();
let onOrphan: ((reaped: Reaped) => void) | undefined;
let listening = false;
// Nothing else keeps Node's loop alive while a child runs: a timer that never fires does, at no
// cost.
let keepAlive: NodeJS.Timeout | undefined;

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('SIGCHLD', collect);
}

/** Must run before the spawn, so no SIGCHLD of this child can come before its listener. */
export function prepareToWait(): void {
  listen();
}

/**
 * The raw wait status of a child spawned outside libuv, once it has ended. `beforeReap` runs once
 * the child has ended but is not yet reaped: its /proc entry still says what it last executed.
 */
export function waitForChild(pid: number, beforeReap?: () => void): Promise<number> {
  listen();
  if (beforeReap) beforeReaping.set(pid, beforeReap);
  keepAlive ??= setInterval(() => {}, 2 ** 31 - 1);
  const ended = new Promise<number>((resolve) => waiting.set(pid, resolve));
  // It may have ended already, between the spawn and now.
  collect();
  return ended;
}

export function trackLibuvChild(pid: number): void {
  libuvPids.add(pid);
}

export function untrackLibuvChild(pid: number): void {
  libuvPids.delete(pid);
}

/**
 * A child of keepalive that is not part of the run led by `leader`: libuv's, or another spawn of
 * the gateway (a health probe). Orphans are the run's: no other run exists while one is swept.
 */
export function isForeignChild(pid: number, leader: number): boolean {
  return libuvPids.has(pid) || (pid !== leader && waiting.has(pid));
}

/** A child of keepalive that nothing waits for by pid: an orphan that came to it. */
export function isOrphan(pid: number): boolean {
  return !libuvPids.has(pid) && !waiting.has(pid) && !adopted.has(pid);
}

/**
 * Waits for a process keepalive did not spawn (a MAINPID=): its raw wait status once it ends as
 * keepalive's child (an orphan of the tree, under the subreaper); undefined if it ended while
 * another process was its parent (that one took the status). `isAlive` proves it is still that
 * process. Until it is ours no SIGCHLD tells of its end, so `lookEveryMs` looks meanwhile.
 */
export function adopt(
  pid: number,
  isAlive: () => boolean,
  lookEveryMs: number,
): { ended: Promise<number | undefined>; release(): void } {
  listen();
  keepAlive ??= setInterval(() => {}, 2 ** 31 - 1);
  let look: NodeJS.Timeout | undefined = setInterval(collect, lookEveryMs);
  const stopLooking = (): void => {
    clearInterval(look);
    look = undefined;
  };
  const ended = new Promise<number | undefined>((resolve) => {
    const settle = (status: number | undefined): void => {
      stopLooking();
      resolve(status);
    };
    adopted.set(pid, { isAlive, ours: stopLooking, resolve: settle });
  });
  collect();
  return {
    ended,
    release() {
      stopLooking();
      adopted.delete(pid);
    },
  };
}

/**
 * Takes the SIGCHLD listener off once nothing is waited for, adopted or reaped, so that a program
 * that embedded the API is left as it was; the next spawn puts it back (prepareToWait).
 */
export function stopListening(): void {
  if (!listening || waiting.size > 0 || adopted.size > 0 || onOrphan) return;
  process.off('SIGCHLD', collect);
  listening = false;
  // A released MAINPID= leaves it behind (collect() clears it only on a SIGCHLD).
  clearInterval(keepAlive);
  keepAlive = undefined;
}

/** Reap orphans as they come (PID 1, or a subreaper); returns the function that stops it. */
export function reapOrphans(report: (reaped: Reaped) => void): () => void {
  listen();
  onOrphan = report;
  collect();
  return () => {
    if (onOrphan === report) onOrphan = undefined;
  };
}

let collectScheduled = false;

/**
 * libuv drops a signal it cannot queue (its pipe is full, as in a storm of other signals), and a
 * SIGCHLD lost so would leave an exit unseen for good. So every other signal keepalive handles
 * looks once more, at most once per loop turn: a storm pays one waitpid per turn, an idle
 * keepalive nothing.
 */
export function collectSoon(): void {
  if (!listening || collectScheduled) return;
  collectScheduled = true;
  setImmediate(() => {
    collectScheduled = false;
    collect();
  });
}

/** Reaps what is waiting now, without waiting for the SIGCHLD to be dispatched. */
export function collectNow(): void {
  if (listening) collect();
}

function collect(): void {
  for (const [pid, resolve] of waiting) {
    const peek = beforeReaping.get(pid);
    if (peek) {
      if (!hasEnded(pid)) continue;
      beforeReaping.delete(pid);
      peek();
    }
    const result = waitpid(pid, WNOHANG);
    // -1: not ours to wait for any more (an embedding program reaped it): it has ended, status
    // unknown; settling as a plain exit beats waiting for ever.
    if (result.pid !== pid && result.pid !== -1) continue;
    waiting.delete(pid);
    resolve(result.pid === pid ? result.status : 0);
  }
  for (const [pid, main] of adopted) {
    const result = waitpid(pid, WNOHANG);
    // -1: not keepalive's child (yet): it lives on under its parent, or that parent reaped it.
    if (result.pid === 0) main.ours(); // from now on its SIGCHLD comes to keepalive
    if (result.pid === 0 || (result.pid === -1 && main.isAlive())) continue;
    adopted.delete(pid);
    main.resolve(result.pid === pid ? result.status : undefined);
  }
  if (onOrphan) reapEndedOrphans(onOrphan);
  if (waiting.size === 0 && adopted.size === 0 && keepAlive !== undefined) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/**
 * The kernel names the children that ended, one at a time, without reaping them: each is reaped
 * here unless libuv waits for it. Only when libuv's is first in line, or the kernel cannot be
 * asked, is every child looked at in /proc (a file per thread of keepalive, on every SIGCHLD).
 */
function reapEndedOrphans(report: (reaped: Reaped) => void): void {
  for (;;) {
    const pid = endedChild();
    if (pid === 0 || pid === -1) return;
    if (pid === undefined || libuvPids.has(pid)) break;
    beforeReaping.get(pid)?.();
    beforeReaping.delete(pid);
    const result = waitpid(pid, WNOHANG);
    if (result.pid !== pid) break;
    // One waited for by pid (or a MAINPID= adopted) that ended since the loops above.
    const resolve = waiting.get(pid);
    const main = adopted.get(pid);
    waiting.delete(pid);
    adopted.delete(pid);
    if (resolve) resolve(result.status);
    else if (main) main.resolve(result.status);
    else report({ pid, status: result.status });
  }
  for (const pid of childPids()) {
    if (waiting.has(pid) || libuvPids.has(pid) || adopted.has(pid)) continue;
    const result = waitpid(pid, WNOHANG);
    if (result.pid === pid) report({ pid, status: result.status });
  }
}

/**
 * Whether this process has any child, running or ended: one waitid, where /proc costs a file per
 * thread.
 */
export function hasChildren(): boolean {
  return endedChild() !== -1;
}

/**
 * Every child of a process, from /proc/PID/task/TID/children (an orphan may be given to any
 * thread).
 */
export function childPids(of: number | 'self' = 'self'): number[] {
  const pids: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${of}/task`);
  } catch {
    return pids; // it ended while we looked
  }
  for (const task of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${of}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const word of text.split(' ')) if (word !== '' && word !== '\n') pids.push(Number(word));
  }
  return pids;
}
