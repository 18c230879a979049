// A single command's process as a set's processes are shown (ProcessView), followed from its
// supervisor's events: what `processes()` gives the guardian and the API for one command.
import type { SupervisorEvents } from './events.js';
import { describeOutcome } from './exit.js';
import type { ProcessView } from '../set/types.js';

export function firstView(name: string): ProcessView {
  return {
    name,
    state: 'waiting',
    pid: undefined,
    startedAt: undefined,
    restarts: 0,
    lastExit: undefined,
    ready: false,
  };
}

/** The events that change a view. */
export const VIEW_EVENTS = ['spawn', 'ready', 'reloaded', 'main-pid', 'exit', 'stop'] as const;
export type ViewEvent = (typeof VIEW_EVENTS)[number];
export type ViewPayload = SupervisorEvents[ViewEvent][0];

/** The view after one event; `now` is the wall clock in milliseconds. */
export function nextView(
  view: ProcessView,
  event: ViewEvent,
  facts: ViewPayload,
  now: number,
): ProcessView {
  switch (event) {
    case 'spawn': {
      const { pid, restarts } = facts as SupervisorEvents['spawn'][0];
      // A single command's child runs from its start; `ready` says whether it sent READY=1.
      return { ...view, state: 'running', pid, startedAt: now, restarts, ready: false };
    }
    case 'ready':
    case 'reloaded':
      return { ...view, ready: view.pid !== undefined };
    case 'main-pid': {
      const { accepted, mainPid } = facts as SupervisorEvents['main-pid'][0];
      return accepted ? { ...view, pid: mainPid } : view;
    }
    case 'stop':
      return view.pid === undefined ? view : { ...view, state: 'stopping' };
    default: {
      const { outcome, status, next, pid } = facts as SupervisorEvents['exit'][0];
      const state =
        next.action === 'restart'
          ? 'backing-off'
          : pid === undefined || next.action === 'give-up'
            ? 'failed'
            : 'ended';
      return {
        ...view,
        state,
        pid: undefined,
        startedAt: undefined,
        ready: false,
        lastExit: { words: describeOutcome(outcome), status },
      };
    }
  }
}
