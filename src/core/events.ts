// The public event vocabulary: what a Supervisor emits and what each event carries.
// Types only, so every layer (the heart, the run, the logger, embedders) can name them.
import type { Outcome } from './exit.js';
import type { HangReason } from './heartbeat.js';
import type { HealthVerdict } from './health.js';
import type { EndReason } from './policy.js';
import type { SignalName } from './signals.js';
import type { Condition } from '../set/types.js';

export interface Who {
  name: string;
  pid: number;
}
export interface ReadyEvent extends Who {
  afterMs: number;
}
/** RELOADING=1. */
export type ReloadingEvent = Who;
/** READY=1 after RELOADING=1: `afterMs` since RELOADING=1. */
export type ReloadedEvent = ReadyEvent;
export interface StatusEvent extends Who {
  text: string;
}
export type StoppingEvent = Who;
export type WatchdogEvent =
  | (Who & { change: 'timeout'; timeoutMs: number | null })
  | (Who & { change: 'extend'; dueInMs: number });
/**
 * Notify lines dropped since the last report: over MAX_LINE_BYTES, a STATUS= that is not UTF-8,
 * other, or a datagram from a sender not allowed.
 */
export interface DroppedEvent extends Who {
  tooLong: number;
  notUtf8: number;
  malformed: number;
  notAllowed: number;
  total: number;
}
export interface HangEvent extends Who {
  reason: HangReason;
  silentMs: number;
  signal: SignalName;
}
export interface HealthEvent extends Who {
  passed: boolean;
  detail: string;
  verdict: HealthVerdict;
  failures: number;
  retries: number;
}
export interface UnhealthyEvent extends Who {
  failures: number;
  detail: string;
  signal: SignalName;
}

export interface HeartEvents {
  ready: [ReadyEvent];
  reloading: [ReloadingEvent];
  reloaded: [ReloadedEvent];
  status: [StatusEvent];
  stopping: [StoppingEvent];
  watchdog: [WatchdogEvent];
  dropped: [DroppedEvent];
  hang: [HangEvent];
  health: [HealthEvent];
  unhealthy: [UnhealthyEvent];
}

export type Next =
  | { action: 'restart'; delayMs: number; restart: number; planned: boolean }
  | { action: 'give-up'; failures: number; windowMs: number }
  | { action: 'end'; reason: EndReason };

export interface SpawnEvent {
  name: string;
  pid: number;
  restarts: number;
  command: string;
  args: readonly string[];
}
export interface ExitEvent {
  name: string;
  /** Undefined when the command could not be started. */
  pid: number | undefined;
  outcome: Outcome;
  status: number;
  uptimeMs: number;
  next: Next;
}
export interface StopEvent {
  name: string;
  pid: number | undefined;
  signal: SignalName;
  received: boolean;
  killTimeoutMs: number;
}
export interface EscalateEvent {
  name: string;
  pid: number;
  sent: SignalName;
  afterMs: number;
}
export interface ForwardEvent {
  name: string;
  pid: number;
  signal: SignalName;
}
export interface SuspendEvent {
  name: string;
  pid: number | undefined;
  signal: SignalName;
  ignored: boolean;
}
/** A signal whose action is to be ignored (SIGTRAP, SIGSYS): said at -v, nothing else. */
export interface IgnoreEvent {
  name: string;
  pid: number | undefined;
  signal: SignalName;
}
/** An orphan that was reparented to keepalive (PID 1 or subreaper) and reaped. */
export interface ReapEvent {
  pid: number;
  code: number | null;
  signal: number | null;
}
/** The leader has exited and left processes behind: the next step waits until they end. */
export interface SweepEvent {
  name: string;
  pid: number;
  pids: readonly number[];
  /** "sleep[124], sh[125]". */
  left: string;
  signal: SignalName;
  /** What comes once they are gone. */
  then: 'restart' | 'end';
  /** When SIGKILL follows, counted from keepalive's stop signal or the leader's exit. */
  killInMs: number;
}
/** Nothing of the run is left; `killed` names what had to be SIGKILLed. */
export interface SweptEvent {
  name: string;
  pid: number;
  killed: readonly number[];
  killedList: string;
}
/** A memory check of the run's whole tree (--max-memory), every --memory-interval. */
export interface MemoryEvent extends Who {
  bytes: number;
  limitBytes: number;
}
/** The tree was over --max-memory: keepalive stops the child with `signal`. */
export interface OverMemoryEvent extends Who {
  usedBytes: number;
  limitBytes: number;
  signal: SignalName;
}
/**
 * An on-exit hook ended. done: it succeeded; failed: a non-zero exit, a signal, or a function that
 * threw; timed-out: still running after --on-exit-timeout (a command is killed with its group);
 * not-started: `sh` could not be started.
 */
export interface HookEvent {
  name: string;
  /** The hook's shell; undefined for a function. */
  hookPid: number | undefined;
  result: 'done' | 'failed' | 'timed-out' | 'not-started';
  /** "exited with code 3", "killed by SIGTERM", an error's message. */
  detail: string;
  durationMs: number;
  /** The exit it was told of. */
  outcome: Outcome['kind'];
  missed: number;
}
/**
 * MAINPID=N. Accepted: N is the run's main process from now on (its exit is the run's, the stop
 * and forwarded signals aim at it); `pid` is the one it replaces. Refused: why, and how many
 * MAINPID= this run refused so far.
 */
export interface MainPidEvent extends Who {
  mainPid: number;
  accepted: boolean;
  refused: string | null;
  refusals: number;
}
/** The leader exited after it handed over with MAINPID=: the run goes on with `mainPid`. */
export interface LeaderExitEvent extends Who {
  mainPid: number;
  outcome: Outcome;
}
/**
 * --output's news: lines dropped (said once writing works again), a rotated name that is not
 * keepalive's (left alone, said once), a rotation or compression that failed.
 */
export type OutputEvent = { name: string; file: string } & (
  | { kind: 'dropped'; lines: number; reason: string; total: number }
  | { kind: 'left-alone'; path: string; why: string }
  | { kind: 'failed'; message: string }
);
export type EndCause = EndReason | 'give-up';
export interface EndEvent {
  status: number;
  reason: EndCause;
}

export interface SupervisorEvents extends HeartEvents {
  spawn: [SpawnEvent];
  exit: [ExitEvent];
  stop: [StopEvent];
  escalate: [EscalateEvent];
  forward: [ForwardEvent];
  suspend: [SuspendEvent];
  ignore: [IgnoreEvent];
  reap: [ReapEvent];
  sweep: [SweepEvent];
  swept: [SweptEvent];
  memory: [MemoryEvent];
  'over-memory': [OverMemoryEvent];
  hook: [HookEvent];
  'main-pid': [MainPidEvent];
  'leader-exit': [LeaderExitEvent];
  output: [OutputEvent];
  end: [EndEvent];
}

/** A process of a set waits for its dependencies' conditions before it starts. */
export interface WaitingEvent {
  name: string;
  waitingFor: ReadonlyArray<{ name: string; condition: Condition }>;
  timeoutMs: number;
}
/** A process of a set will not start: a dependency did not reach its condition. */
export interface NotStartedEvent {
  name: string;
  dependency: string;
  condition: Condition;
  /** timeout: not there within the ready timeout; ended: it ended for good without getting there. */
  reason: 'timeout' | 'ended';
  waitedMs: number;
  timeoutMs: number;
  status: number;
}
/** The set is being stopped: each process once nothing that depends on it runs. */
export interface SetStopEvent {
  signal: SignalName | undefined;
  received: boolean;
  running: readonly string[];
}
/** An essential process ended for good: the others are stopped and keepalive exits with `status`. */
export interface EssentialEndEvent {
  name: string;
  status: number;
}

/** A set's events: each of its processes' (each naming its process), and the set's own. */
export interface SetEvents extends SupervisorEvents {
  waiting: [WaitingEvent];
  'not-started': [NotStartedEvent];
  'set-stop': [SetStopEvent];
  'essential-end': [EssentialEndEvent];
}
