// The phases of one run of the child, as a state × input table (the way s6-supervise keeps its
// state enum and action table). Pure: the run object (src/run.ts) feeds it inputs and carries out
// the actions it returns, so no combination of flags can say two things at once.

/**
 * starting: being spawned; running: the leader lives; stopping: keepalive sent its signal and the
 * leader lives; sweeping: the leader is gone, what it left of its tree is being ended; ended:
 * nothing of the run is left.
 */
export type Phase = 'starting' | 'running' | 'stopping' | 'sweeping' | 'ended';

/**
 * spawned: the leader runs; stop: end the run (a stop, a restart, a hang or health verdict);
 * forward: keepalive received a signal that is the child's (SIGHUP, or a stop signal again);
 * exited: the leader is gone; deadline: the kill timeout ran out; kill-now: a second Ctrl+C;
 * empty: no process of the tree is left.
 */
export type RunInput =
  'spawned' | 'stop' | 'forward' | 'exited' | 'deadline' | 'kill-now' | 'empty';

/**
 * Actions run in order; `sweep` comes last because it may find the tree empty at once and finish.
 * signal: the stop signal to every process of the tree (each process once); forward: the received
 * signal to the leader's group and the main process; arm: start the kill timeout; kill: SIGKILL to
 * every process of the tree; sweep: start looking for what is left; finish: the run is over.
 */
export type RunAction = 'signal' | 'forward' | 'arm' | 'kill' | 'sweep' | 'finish';

export interface Step {
  phase: Phase;
  actions: readonly RunAction[];
}

const stay = (phase: Phase): Step => ({ phase, actions: [] });

const TABLE: Record<Phase, Partial<Record<RunInput, Step>>> = {
  starting: {
    spawned: { phase: 'running', actions: [] },
    // A stop asked for during the spawn is kept by the run and given once it runs (see run.ts).
    exited: { phase: 'ended', actions: ['finish'] },
  },
  running: {
    stop: { phase: 'stopping', actions: ['signal', 'arm'] },
    forward: { phase: 'running', actions: ['forward'] },
    'kill-now': { phase: 'stopping', actions: ['kill'] },
    // Left alone, what the leader left behind gets the stop signal, then SIGKILL after the timeout.
    exited: { phase: 'sweeping', actions: ['signal', 'arm', 'sweep'] },
  },
  stopping: {
    // Still the child's: one that traps SIGTERM may wait for SIGQUIT or SIGUSR1 to leave.
    forward: { phase: 'stopping', actions: ['forward'] },
    exited: { phase: 'sweeping', actions: ['signal', 'sweep'] },
    deadline: { phase: 'stopping', actions: ['kill'] },
    'kill-now': { phase: 'stopping', actions: ['kill'] },
  },
  // Nothing is forwarded: the leader is gone, and what it left is being ended (a storm of signals
  // here would hold up the reading of its last words).
  sweeping: {
    deadline: { phase: 'sweeping', actions: ['kill'] },
    'kill-now': { phase: 'sweeping', actions: ['kill'] },
    empty: { phase: 'ended', actions: ['finish'] },
  },
  ended: {},
};

/** What a run in `phase` does on `input`; an input a phase has no row for changes nothing. */
export function step(phase: Phase, input: RunInput): Step {
  return TABLE[phase][input] ?? stay(phase);
}
