// The programmatic API: the CLI is a thin layer over supervise().
import { resolveOptions, type SuperviseOptions } from './options.js';
import { readCoreDumps } from './exit/core-dumps.js';
import { discoverOomCounter } from './exit/oom.js';
import { Supervisor, type Environment } from './supervisor.js';
import { ProcessSet } from './set/process-set.js';
import type { SetOptions } from './set/types.js';

export function supervise(
  options: SuperviseOptions,
  environment: Partial<Environment> = {},
): Supervisor {
  return new Supervisor(resolveOptions(options), {
    now: () => performance.now(),
    random: Math.random,
    coreDumps: environment.coreDumps ?? readCoreDumps(),
    oomKills: environment.oomKills ?? discoverOomCounter(),
    ...environment,
  });
}

export { Supervisor } from './supervisor.js';
export type { Environment, SupervisorResult } from './supervisor.js';
export type {
  DroppedEvent,
  EndCause,
  EndEvent,
  EscalateEvent,
  EssentialEndEvent,
  ExitEvent,
  ForwardEvent,
  HangEvent,
  HealthEvent,
  IgnoreEvent,
  HookEvent,
  LeaderExitEvent,
  MainPidEvent,
  MemoryEvent,
  OutputEvent,
  OverMemoryEvent,
  Next,
  NotStartedEvent,
  ReadyEvent,
  ReapEvent,
  ReloadedEvent,
  ReloadingEvent,
  SetEvents,
  SetStopEvent,
  SpawnEvent,
  StatusEvent,
  StopEvent,
  StoppingEvent,
  SupervisorEvents,
  SuspendEvent,
  SweepEvent,
  SweptEvent,
  UnhealthyEvent,
  WaitingEvent,
  WatchdogEvent,
} from './core/events.js';
export {
  DEFAULTS,
  UsageError,
  type LogFormat,
  type LogLevel,
  type SuperviseOptions,
} from './options.js';
export {
  classify,
  describeOutcome,
  exitStatus,
  type CoreDumps,
  type ExitFacts,
  type Outcome,
} from './core/exit.js';
export type { RestartMode } from './core/policy.js';
export type { HookCall, OnExitFunction } from './core/hook-env.js';
export type { HangReason } from './core/heartbeat.js';
export type { HealthVerdict } from './core/health.js';
export type { SignalName } from './core/signals.js';

export function superviseSet(
  options: SetOptions,
  environment: Partial<Environment> = {},
): ProcessSet {
  return new ProcessSet(options, {
    now: () => performance.now(),
    random: Math.random,
    coreDumps: environment.coreDumps ?? readCoreDumps(),
    oomKills: environment.oomKills ?? discoverOomCounter(),
    ...environment,
  });
}

export { ProcessSet } from './set/process-set.js';
export type {
  Condition,
  Dependency,
  ProcessOptions,
  ProcessView,
  SetOptions,
} from './set/types.js';
