// Signals to a child's whole process group, so `sh -c`, `npm run` and pipelines act as one.
import { existsSync } from 'node:fs';
import type { SignalName } from '../core/signals.js';

/** Sends to the group led by `pgid`. False if the group is gone. */
export function signalGroup(pgid: number, signal: SignalName | 0): boolean {
  // A gone group is the usual answer after every exit: skip the stack trace its error would
  // capture.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/**
 * A child's process group, known by its leader's number. That number names the child's group only
 * while the leader is unreaped (its zombie holds it) or no process holds it: the kernel gives a
 * number out again only once no process, group or session uses it. So once another process has it
 * (after a MAINPID= hand-over the run outlives its leader for hours), the old group is empty and
 * -pgid would reach a stranger's group: then it is never signalled.
 */
export class LeaderGroup {
  #reaped = false;

  constructor(
    readonly pgid: number,
    reaped: Promise<unknown>,
  ) {
    void reaped.then(() => (this.#reaped = true));
  }

  /** -pgid can name nothing but the child's group (or no group at all). */
  get ours(): boolean {
    return !this.#reaped || !existsSync(`/proc/${this.pgid}`);
  }

  /** signalGroup, while the number is the child's group's; false otherwise. */
  signal(signal: SignalName | 0): boolean {
    return this.ours && signalGroup(this.pgid, signal);
  }
}
