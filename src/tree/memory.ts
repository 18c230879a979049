// The memory of a run's whole tree, for --max-memory: the sum of its processes' resident sets
// (VmRSS in /proc/PID/status, in kB: no page size to ask libc for). keepalive owns no cgroup of its
// own, so a cgroup's memory.current would count keepalive and whatever else shares it: the sum of
// RSS is the tree's alone (pages shared between its processes count once per process).
import { readFileSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import type { SupervisorEvents } from '../core/events.js';
import type { KillCause } from '../core/exit.js';
import type { SignalName } from '../core/signals.js';
import { TREE_KNOWN } from './tree.js';

/** A process's resident set in bytes; 0 once it is gone (or a kernel thread, which has none). */
export function rssBytes(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return 0;
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

export function treeBytes(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += rssBytes(pid);
  return total;
}

export interface MemoryWatch {
  intervalMs: number;
  limitBytes: number;
  /** The tree's memory now. */
  measure: () => number;
  sample: (bytes: number) => void;
  over: (bytes: number) => void;
}

let watching = 0;

/**
 * How many memory watches run now: none unless --max-memory asked for one (the tests hold it to
 * that).
 */
export function memoryWatches(): number {
  return watching;
}

/**
 * Checks every intervalMs until the returned function is called; `over` says a check found too
 * much.
 */
export function watchMemory(watch: MemoryWatch): () => void {
  watching++;
  const timer = setInterval(() => {
    const bytes = watch.measure();
    watch.sample(bytes);
    if (bytes > watch.limitBytes) watch.over(bytes);
  }, watch.intervalMs);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    watching--;
    clearInterval(timer);
  };
}

export interface TreeWatch {
  name: string;
  pid: number;
  /** Undefined: --max-memory is off, and no timer is made. */
  limitBytes: number | undefined;
  intervalMs: number;
  signal: SignalName;
  /** The run's live processes now. */
  pids: () => number[];
  /** Stops the run for its size; false if it is no longer running (already being stopped). */
  stop: (cause: KillCause) => boolean;
  emit: EventEmitter<SupervisorEvents>['emit'];
}

/**
 * A run's memory watch: `memory` after each check, `over-memory` and a stop when over the limit.
 */
export function watchTree(watch: TreeWatch): (() => void) | undefined {
  const { name, pid, limitBytes, signal, emit } = watch;
  if (limitBytes === undefined || !TREE_KNOWN) return undefined;
  const unwatch = watchMemory({
    intervalMs: watch.intervalMs,
    limitBytes,
    measure: () => treeBytes(watch.pids()),
    sample: (bytes) => emit('memory', { name, pid, bytes, limitBytes }),
    over: (usedBytes) => {
      if (!watch.stop({ kind: 'over-memory', signal, usedBytes, limitBytes })) return;
      unwatch();
      emit('over-memory', { name, pid, usedBytes, limitBytes, signal });
    },
  });
  return unwatch;
}
