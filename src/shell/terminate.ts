// Stopping a process group that is not a run of this keepalive (what a killed supervisor left):
// its stop signal to the group, then SIGKILL if it is still there after the timeout.
import type { SignalName } from '../core/signals.js';
import { signalGroup } from './process-group.js';

export function terminate(options: {
  pid: number;
  signal: SignalName;
  timeoutMs: number;
  /** Settles when the group is gone. */
  ended: Promise<unknown>;
  onEscalate: () => void;
}): void {
  const { pid, ended } = options;
  signalGroup(pid, options.signal);
  const timer = setTimeout(() => {
    options.onEscalate();
    signalGroup(pid, 'SIGKILL');
  }, options.timeoutMs);
  void ended.then(() => clearTimeout(timer));
}
