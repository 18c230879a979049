// What a run is given and what it tells: the supervisor's side of src/run.ts.
import type { EventEmitter } from 'node:events';
import type { SupervisorEvents } from './core/events.js';
import type { ExitFacts, KillCause } from './core/exit.js';
import type { ResolvedOptions } from './options.js';
import type { NotifySocket } from './heart/notify-socket.js';
import type { OomCounter } from './exit/oom.js';
import type { Member } from './tree/tree.js';

export interface RunExit {
  facts: ExitFacts & { started: true };
  /** Set when keepalive ended the child because it was hung or unhealthy. */
  cause: KillCause | undefined;
  /** The kernel's OOM killer struck in keepalive's memory cgroup while the child ran. */
  oomKilled: boolean;
  readyAt: number | undefined;
}

export interface Swept {
  /** What the leader left behind when it exited. */
  left: readonly Member[];
  /** What was still there at the deadline and got SIGKILL. */
  killed: readonly Member[];
}

export interface RunContext {
  options: ResolvedOptions;
  env: Readonly<Record<string, string | Buffer | undefined>>;
  restarts: number;
  now: () => number;
  oomKills: OomCounter;
  emit: EventEmitter<SupervisorEvents>['emit'];
  /** keepalive is a subreaper (or PID 1): the tree's orphans come back to it. */
  ownsOrphans: boolean;
  /**
   * Other runs live beside this one (a set): an orphan is this run's only while it is in the run's
   * session (where there are no cgroups to tell).
   */
  sharesOrphans?: boolean;
  /** The supervisor's $NOTIFY_SOCKET, if it has one. */
  notifySocket?: NotifySocket | undefined;
}
