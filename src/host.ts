// keepalive's duties to the whole process, taken once however many processes it supervises: its
// signal handlers, its place in the process tree (subreaper, orphans reaped as PID 1) and the
// cgroups. A lone Supervisor opens its own host; a ProcessSet opens one for all of its processes.
import type { ReapEvent } from './core/events.js';
import { factsFromWaitStatus } from './core/exit.js';
import { roleOf, type Role } from './core/role.js';
import { signalNumber, type SignalName } from './core/signals.js';
import { collectSoon } from './spawn/children.js';
import { routeSignals, suspendSelf } from './tree/signals.js';
import { killHelperLeftovers, TREE_KNOWN } from './tree/tree.js';

export interface HostOptions {
  /** keepalive is the whole program (the CLI): it handles the process's signals. */
  handleSignals: boolean;
  /** --subreaper. */
  subreaper: boolean;
}

/** Where the host sends what reaches the process. */
export interface HostRoutes {
  stop(signal: SignalName): void;
  forward(signal: SignalName): void;
  /** Job control: the children are stopped here; `ignored` when keepalive cannot stop itself. */
  suspend(signal: SignalName, ignored: boolean): void;
  ignore(signal: SignalName): void;
  reap(event: ReapEvent): void;
}

export interface Host {
  /** What keepalive's place in the tree asks of it (final once `open` has settled). */
  readonly role: Role;
  /** Undoes it all; once. */
  close(): void;
}

/**
 * Installs the signal handlers at once (a stop signal during the awaits below is not lost), then
 * takes keepalive's place in the tree and opens the cgroups.
 */
export async function openHost(options: HostOptions, routes: HostRoutes): Promise<Host> {
  let role: Role = { becomeSubreaper: false, reapOrphans: false, canSuspend: process.pid !== 1 };
  const unroute = options.handleSignals
    ? routeSignals({
        stop: routed(routes.stop),
        forward: routed(routes.forward),
        suspend: routed((signal) => {
          const ignored = !role.canSuspend;
          routes.suspend(signal, ignored);
          if (!ignored) suspendSelf();
        }),
        ignore: routed(routes.ignore),
      })
    : () => {};
  let stopReaping = (): void => {};
  let closeCgroups = (): void => {};
  const close = (): void => {
    closeCgroups();
    stopReaping();
    unroute();
  };
  try {
    const taken = await takeRole(options, routes.reap);
    role = taken.role;
    stopReaping = taken.undo;
    closeCgroups = await openCgroups(options);
  } catch (error) {
    close();
    throw error;
  }
  return {
    get role() {
      return role;
    },
    close,
  };
}

/** Nothing a hook or a probe started, in any session, outlives keepalive. */
export function endHelpers(): void {
  killHelperLeftovers();
}

/**
 * A subreaper by default, so the child's orphans come back to keepalive and no descendant can
 * slip out of a stop; as PID 1, or when a parent made keepalive one, orphans must be reaped too.
 */
async function takeRole(
  options: HostOptions,
  reap: (event: ReapEvent) => void,
): Promise<{ role: Role; undo: () => void }> {
  const role: Role = { becomeSubreaper: false, reapOrphans: false, canSuspend: process.pid !== 1 };
  if (!TREE_KNOWN) return { role, undo: () => {} };
  const native = await import('./native/native.js');
  const children = await import('./spawn/children.js');
  const taken = roleOf({
    pid1: process.pid === 1,
    subreaperOption: options.subreaper,
    alreadySubreaper: native.isSubreaper(),
    treeKnown: TREE_KNOWN,
    wholeProcess: options.handleSignals,
  });
  if (taken.becomeSubreaper && !native.becomeSubreaper())
    throw new Error('prctl(PR_SET_CHILD_SUBREAPER) failed');
  const stopReaping = taken.reapOrphans
    ? children.reapOrphans(({ pid, status }) => {
        const facts = factsFromWaitStatus(status);
        const signal = facts.signal === null ? null : signalNumber(facts.signal);
        reap({ pid, code: facts.code, signal });
      })
    : () => {};
  // At the end, what keepalive changed in the process is undone: a program that embedded the
  // API goes on as it was (its orphans are not kept, its SIGCHLD has no listener of ours).
  return {
    role: taken,
    undo: () => {
      if (taken.becomeSubreaper) native.stopBeingSubreaper();
      stopReaping();
      children.stopListening();
    },
  };
}

/**
 * A cgroup for each run, hook and probe, where keepalive may make them (tree/cgroups.ts); only
 * when keepalive is the whole process: an embedding program's own children are not its to move.
 */
async function openCgroups(options: HostOptions): Promise<() => void> {
  if (!TREE_KNOWN || !options.handleSignals) return () => {};
  const cgroups = await import('./tree/cgroups.js');
  cgroups.openCgroups();
  return cgroups.closeCgroups;
}

/**
 * Each handled signal also looks for an exit whose SIGCHLD a storm of signals may have crowded out.
 */
function routed(act: (signal: SignalName) => void): (signal: SignalName) => void {
  return (signal) => {
    collectSoon();
    act(signal);
  };
}
