// Signals to a child's whole process group, so `sh -c`, `npm run` and pipelines act as one.
import type { SignalName } from '../core/signals.js';

/** Sends to the group led by `pgid`. False if the group is gone. */
export function signalGroup(pgid: number, signal: SignalName | 0): boolean {
  // A gone group is the usual answer after every exit: skip the stack trace its error would capture.
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

