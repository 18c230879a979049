// keepalive's own signal handlers. Every signal it acts on gets a listener: as PID 1, a signal
// without one is dropped by the kernel, and without one Node would die of SIGTERM instead of stopping.
import type { SignalName } from '../core/signals.js';

/** These stop keepalive: the child gets the same signal, then SIGKILL after the kill timeout. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const satisfies readonly SignalName[];
/** These pass through to the child's process group unchanged. */
export const FORWARDED_SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'] as const satisfies readonly SignalName[];
/**
 * Job control from the terminal (Ctrl+Z, background reads and writes). The child has its own
 * session, so the terminal cannot stop it: keepalive passes the signal on, then stops itself.
 */
export const SUSPEND_SIGNALS = ['SIGTSTP', 'SIGTTIN', 'SIGTTOU'] as const satisfies readonly SignalName[];

export interface SignalRoutes {
  stop(signal: SignalName): void;
  forward(signal: SignalName): void;
  suspend(signal: SignalName): void;
}

/** Installs the handlers; returns the function that removes them. */
export function routeSignals(routes: SignalRoutes): () => void {
  const installed: Array<[SignalName, () => void]> = [];
  for (const signal of STOP_SIGNALS) installed.push([signal, () => routes.stop(signal)]);
  for (const signal of FORWARDED_SIGNALS) installed.push([signal, () => routes.forward(signal)]);
  for (const signal of SUSPEND_SIGNALS) installed.push([signal, () => routes.suspend(signal)]);
  for (const [signal, listener] of installed) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of installed) process.off(signal, listener);
  };
}

/** Stops this process as the terminal would have (SIGSTOP cannot be caught); SIGCONT resumes it. */
export function suspendSelf(): void {
  process.kill(process.pid, 'SIGSTOP');
}
