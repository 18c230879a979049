// Heartbeat deadlines: when the next sign of life is due, and whether a child is hung.
// Pure: the clock is an input (monotonic milliseconds); the shell keeps one timer on `deadline`.
import type { NotifyMessage } from './notify.js';

export interface WatchdogConfig {
  /**
   * The longest silence allowed between beats; undefined: off, unless the child sets WATCHDOG_USEC.
   */
  timeoutMs: number | undefined;
  /** The time allowed for the first beat after the start. */
  graceMs: number;
  /** After STOPPING=1, beats are no longer due, but the child must be gone within this. */
  stopTimeoutMs: number;
}

export type HangReason = 'no-heartbeat' | 'trigger' | 'stop-timeout';

export interface Hang {
  reason: HangReason;
  /**
   * For no-heartbeat and trigger: since the last beat (or the start); for stop-timeout: since
   * STOPPING=1.
   */
  silentMs: number;
}

export interface WatchState {
  readonly timeoutMs: number | undefined;
  /** When the child is hung unless a beat comes first; undefined while the watchdog is off. */
  readonly deadline: number | undefined;
  /** The start, until the first beat. */
  readonly lastBeatAt: number;
  readonly readyAt: number | undefined;
  readonly stoppingAt: number | undefined;
  /** WATCHDOG=trigger arrived: nothing the child sends later undoes it. */
  readonly triggered: boolean;
}

export function startWatch(config: WatchdogConfig, now: number): WatchState {
  return {
    timeoutMs: config.timeoutMs,
    deadline: config.timeoutMs === undefined ? undefined : now + config.graceMs,
    lastBeatAt: now,
    readyAt: undefined,
    stoppingAt: undefined,
    triggered: false,
  };
}

/** The state after one message from the child, received at `now`. */
export function observe(
  config: WatchdogConfig,
  state: WatchState,
  message: NotifyMessage,
  now: number,
): WatchState {
  if (state.triggered) return state;
  switch (message.kind) {
    case 'beat':
      return beat(state, now);
    case 'ready':
      return { ...beat(state, now), readyAt: state.readyAt ?? now };
    case 'set-timeout': {
      // As in systemd: the new timeout counts from now; 0 switches the watchdog off.
      const timeoutMs = message.ms > 0 ? message.ms : undefined;
      if (state.stoppingAt !== undefined) return { ...state, timeoutMs };
      return {
        ...state,
        timeoutMs,
        lastBeatAt: now,
        deadline: timeoutMs === undefined ? undefined : now + timeoutMs,
      };
    }
    case 'extend':
      // Moves the current deadline (a beat's, or the stop deadline) later, never earlier; the next
      // beat brings back the usual timeout.
      if (state.deadline === undefined) return state;
      return { ...state, deadline: Math.max(state.deadline, now + message.ms) };
    case 'stopping':
      // A child shutting down on purpose may stop beating, but not linger forever.
      if (state.stoppingAt !== undefined) return state;
      return {
        ...state,
        stoppingAt: now,
        deadline: state.timeoutMs === undefined ? undefined : now + config.stopTimeoutMs,
      };
    case 'trigger':
      return { ...state, triggered: true, deadline: now };
    // None of these moves a deadline: systemd's watchdog runs on through a reload and a change of
    // main pid.
    case 'status':
    case 'reloading':
    case 'main-pid':
    case 'ignored':
    case 'dropped':
      return state;
  }
}

function beat(state: WatchState, now: number): WatchState {
  if (state.stoppingAt !== undefined || state.timeoutMs === undefined)
    return { ...state, lastBeatAt: now };
  return { ...state, lastBeatAt: now, deadline: now + state.timeoutMs };
}

/** Hung, or not (yet). */
export function hangAt(state: WatchState, now: number): Hang | undefined {
  if (state.deadline === undefined || now < state.deadline) return undefined;
  if (state.triggered) return { reason: 'trigger', silentMs: now - state.lastBeatAt };
  if (state.stoppingAt !== undefined)
    return { reason: 'stop-timeout', silentMs: now - state.stoppingAt };
  return { reason: 'no-heartbeat', silentMs: now - state.lastBeatAt };
}
