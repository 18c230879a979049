// Stopping a child: its stop signal to the group, then SIGKILL if it is still there after the timeout.
import type { SignalName } from '../core/signals.js';
import { waitUntil } from './poll.js';
import { groupAlive, signalGroup } from './process-group.js';

export interface Termination {
  /** Settles when the child has exited. */
  done: Promise<void>;
  /** Skip the rest of the grace period (a second Ctrl+C). */
  killNow(): void;
}

export function terminate(options: {
  pid: number;
  signal: SignalName;
  timeoutMs: number;
  ended: Promise<unknown>;
  onEscalate: () => void;
}): Termination {
  const { pid, ended } = options;
  let escalated = false;
  const escalate = (): void => {
    if (escalated) return;
    escalated = true;
    options.onEscalate();
    signalGroup(pid, 'SIGKILL');
  };
  signalGroup(pid, options.signal);
  const timer = setTimeout(escalate, options.timeoutMs);
  const done = ended.then(() => clearTimeout(timer));
  return { done, killNow: escalate };
}

const SWEEP_POLL_MS = 10;

/**
 * After a group's leader has exited, what it left in its group (background jobs, pipeline members)
 * gets the stop signal and, if still there after `graceMs`, SIGKILL.
 * Polls only while something is left, which is rare and short.
 */
export async function sweepGroup(pgid: number, signal: SignalName, graceMs: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, signal);
  if (!(await waitUntil(() => !groupAlive(pgid), graceMs, SWEEP_POLL_MS))) signalGroup(pgid, 'SIGKILL');
}
