// keepalive's own signal handlers. Every signal it acts on gets a listener: as PID 1, a signal
// without one is dropped by the kernel, and without one Node would die of SIGTERM instead of stopping.
import type { SignalName } from '../core/signals.js';

/** These stop keepalive: the child gets the same signal, then SIGKILL after the kill timeout. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const satisfies readonly SignalName[];
/** These pass through to the child's process group unchanged. */
export const FORWARDED_SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const satisfies readonly SignalName[];

export interface SignalRoutes {
  stop(signal: SignalName): void;
  forward(signal: SignalName): void;
}

/** Installs the handlers; returns the function that removes them. */
export function routeSignals(routes: SignalRoutes): () => void {
  const installed: Array<[SignalName, () => void]> = [];
  for (const signal of STOP_SIGNALS) installed.push([signal, () => routes.stop(signal)]);
  for (const signal of FORWARDED_SIGNALS) installed.push([signal, () => routes.forward(signal)]);
  for (const [signal, listener] of installed) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of installed) process.off(signal, listener);
  };
}
