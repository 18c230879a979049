// keepalive's own signal handlers, from one table that gives every signal 1-31 an action. A signal
// without a listener would end keepalive by its default action and leave the child running alone;
// as PID 1 the kernel would drop it instead. docs/signals-and-tree.md shows this table.
import type { SignalName } from '../core/signals.js';

export type SignalAction =
  /** keepalive stops: the child gets the same signal, then SIGKILL after the kill timeout. */
  | 'stop'
  /** Passed on to the child's process group unchanged. */
  | 'forward'
  /** Job control: the child's group stops, then keepalive (not as PID 1). */
  | 'suspend'
  /** A listener that does nothing but say so at -v. */
  | 'ignore'
  /**
   * No listener: Node sets these to SIG_IGN at its start. The kernel sends them to keepalive about
   * its own writes (a closed stderr, a --log-file over RLIMIT_FSIZE), which keepalive cannot tell
   * from a kill(): forwarding would end the child for keepalive's output, and a line saying so
   * would be one more write to the same closed pipe or full file.
   */
  | 'node-ignores'
  /**
   * Not routed: it is how keepalive learns that its children ended; whatever waits for them
   * listens.
   */
  | 'children'
  /**
   * No listener: a real fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL) raised again after a handler
   * returns, forever, so they keep the default action (keepalive dies, with a core where the kernel
   * writes one).
   */
  | 'default'
  /** SIGKILL and SIGSTOP cannot be caught. */
  | 'uncatchable'
  /**
   * SIGIO: the kernel's word that a child's notify pipe has data; pipe-reader.ts's own listener
   * reads the pipes on it. Never forwarded; from anyone else it only makes keepalive look at them.
   */
  | 'pipes';

/** Every signal 1-31 on Linux, by the name human-signals gives its number. */
export const SIGNAL_ACTIONS = {
  SIGHUP: 'forward',
  SIGINT: 'stop',
  SIGQUIT: 'stop',
  SIGILL: 'default',
  // The kernel's SIGTRAP follows a breakpoint instruction already executed: returning is safe.
  SIGTRAP: 'ignore',
  // Passed on, so the child can be made to dump core; keepalive's own abort() still ends it
  // (abort() restores the default action and raises the signal again).
  SIGABRT: 'forward',
  SIGBUS: 'default',
  SIGFPE: 'default',
  SIGKILL: 'uncatchable',
  SIGUSR1: 'forward',
  SIGSEGV: 'default',
  SIGUSR2: 'forward',
  SIGPIPE: 'node-ignores',
  SIGALRM: 'forward',
  SIGTERM: 'stop',
  SIGSTKFLT: 'forward',
  SIGCHLD: 'children',
  SIGCONT: 'forward',
  SIGSTOP: 'uncatchable',
  SIGTSTP: 'suspend',
  SIGTTIN: 'suspend',
  SIGTTOU: 'suspend',
  SIGURG: 'forward',
  // keepalive's own CPU time passed its soft limit: stop cleanly before the hard limit's SIGKILL
  // ends keepalive alone and leaves the child unsupervised.
  SIGXCPU: 'stop',
  SIGXFSZ: 'node-ignores',
  SIGVTALRM: 'forward',
  SIGPROF: 'forward',
  SIGWINCH: 'forward',
  SIGIO: 'pipes',
  // The halt signal of LXC and other container managers, and of init on power failure.
  SIGPWR: 'stop',
  // The kernel's SIGSYS refuses one system call of keepalive's (seccomp): the call fails, keepalive
  // goes on.
  SIGSYS: 'ignore',
} as const satisfies Partial<Record<SignalName, SignalAction>>;

type Table = typeof SIGNAL_ACTIONS;
type SignalsWith<A extends SignalAction> = {
  [S in keyof Table]: Table[S] extends A ? S : never;
}[keyof Table];

const signalsWith = <A extends SignalAction>(action: A): Array<SignalsWith<A>> =>
  (Object.keys(SIGNAL_ACTIONS) as Array<keyof Table>).filter(
    (signal): signal is SignalsWith<A> => SIGNAL_ACTIONS[signal] === action,
  );

/** These stop keepalive: the child gets the same signal, then SIGKILL after the kill timeout. */
export const STOP_SIGNALS = signalsWith('stop');
/** These pass through to the child's process group unchanged. */
export const FORWARDED_SIGNALS = signalsWith('forward');
/**
 * Job control from the terminal (Ctrl+Z, background reads and writes). The child has its own
 * session, so the terminal cannot stop it: keepalive passes the signal on, then stops itself.
 */
const SUSPEND_SIGNALS = signalsWith('suspend');
/** Caught only to be ignored, with a line at -v. */
const IGNORED_SIGNALS = signalsWith('ignore');
const PIPE_SIGNALS = signalsWith('pipes');
/** Every signal keepalive installs a listener for. */
const HANDLED_SIGNALS: readonly SignalName[] = [
  ...STOP_SIGNALS,
  ...FORWARDED_SIGNALS,
  ...SUSPEND_SIGNALS,
  ...IGNORED_SIGNALS,
  ...PIPE_SIGNALS,
];

export interface SignalRoutes {
  stop(signal: SignalName): void;
  forward(signal: SignalName): void;
  suspend(signal: SignalName): void;
  ignore(signal: SignalName): void;
}

/** Installs the handlers; returns the function that removes them. */
export function routeSignals(routes: SignalRoutes): () => void {
  const installed: Array<[SignalName, () => void]> = [];
  for (const signal of STOP_SIGNALS) installed.push([signal, () => routes.stop(signal)]);
  for (const signal of FORWARDED_SIGNALS) installed.push([signal, () => routes.forward(signal)]);
  for (const signal of SUSPEND_SIGNALS) installed.push([signal, () => routes.suspend(signal)]);
  for (const signal of IGNORED_SIGNALS) installed.push([signal, () => routes.ignore(signal)]);
  // Only so that no default action ends keepalive before its first pipe: the reading is
  // pipe-reader's.
  for (const signal of PIPE_SIGNALS) installed.push([signal, () => {}]);
  for (const [signal, listener] of installed) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of installed) process.off(signal, listener);
  };
}

/**
 * For a process about to exit: a listener that does nothing on every handled signal, never removed.
 * The supervisor removes its own when it ends; what arrives after that, while keepalive removes its
 * files and exits, must not end it by a default action (status 129 for a SIGHUP, files left
 * behind).
 */
export function holdSignals(): void {
  const nothing = (): void => {};
  for (const signal of HANDLED_SIGNALS) process.on(signal, nothing);
}

/** Stops this process as the terminal would have (SIGSTOP cannot be caught); SIGCONT resumes it. */
export function suspendSelf(): void {
  process.kill(process.pid, 'SIGSTOP');
}
