// What an on-exit hook is told, in its environment: how the child ended and what comes next.
// Pure: the exit event in, KEEPALIVE_* variables out.
import type { ExitEvent } from './events.js';
import { exitMessage, exitRecord } from './exit-line.js';
import type { Outcome } from './exit.js';

/** One exit, as the hook queue hands it to a hook. */
export interface HookCall {
  event: ExitEvent;
  /** Restarts before this run (KEEPALIVE_RESTARTS as the child had it). */
  restarts: number;
  /** Exits that happened while an earlier hook ran and that no hook was told of. */
  missed: number;
  /** Wall-clock ISO time of the exit, as the JSON log stamps it. */
  time: string;
  /** With --output: lines of the child's output dropped so far (KEEPALIVE_OUTPUT_DROPPED). */
  outputDropped?: number | undefined;
}

/**
 * The API's on-exit hook: the exit, the environment a command would get, how many exits it missed.
 */
export type OnExitFunction = (
  call: HookCall & { env: Readonly<Record<string, string>> },
) => unknown;

/**
 * `supervisorPid`: KEEPALIVE_PID, as the child has it, so a killed keepalive's next one finds a
 * leftover hook too.
 */
export function hookEnvironment(call: HookCall, supervisorPid: number): Record<string, string> {
  const { event } = call;
  const env: Record<string, string> = {
    KEEPALIVE_PID: String(supervisorPid),
    KEEPALIVE_OUTCOME: event.outcome.kind,
    KEEPALIVE_STATUS: String(event.status),
    KEEPALIVE_NEXT: event.next.action,
    KEEPALIVE_MESSAGE: exitMessage(event),
    KEEPALIVE_EVENT: exitRecord(event, call.time),
    KEEPALIVE_NAME: event.name,
    KEEPALIVE_CHILD_PID: event.pid === undefined ? '' : String(event.pid),
    KEEPALIVE_RESTARTS: String(call.restarts),
    KEEPALIVE_MISSED: String(call.missed),
  };
  if (call.outputDropped !== undefined)
    env['KEEPALIVE_OUTPUT_DROPPED'] = String(call.outputDropped);
  const how = endedBy(event.outcome);
  if (how?.code !== undefined) env['KEEPALIVE_EXIT_CODE'] = String(how.code);
  if (how?.signal !== undefined) env['KEEPALIVE_SIGNAL'] = how.signal;
  return env;
}

/** The exit code or the signal that ended the child; nothing for a command that never started. */
function endedBy(outcome: Outcome): { code?: number; signal?: string } | undefined {
  switch (outcome.kind) {
    case 'exited':
      return { code: outcome.code };
    case 'killed':
    case 'crashed':
      return { signal: outcome.signal };
    case 'hung':
    case 'unhealthy':
    case 'over-memory':
      // A child that caught keepalive's signal and exited by itself ended with its own code.
      return outcome.exitCode === undefined
        ? { signal: outcome.signal }
        : { code: outcome.exitCode };
    case 'oom-killed':
      return { signal: 'SIGKILL' };
    case 'not-started':
      return undefined;
  }
}
