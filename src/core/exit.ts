// How a child ended, in the words every log line uses. Pure: facts in, outcome and words out.
import { formatDuration } from './duration.js';
import type { HangReason } from './heartbeat.js';
import { signalFacts, signalNumber, type SignalName } from './signals.js';

/** Whether a crash could have left a core file, as far as keepalive can tell from its own limits. */
export type CoreDumps = 'possible' | 'disabled' | 'unknown';

/** What the operating system reported, before any interpretation. */
export type ExitFacts =
  | { started: true; code: number | null; signal: SignalName | null }
  | { started: false; errno: string; command: string };

/**
 * Why keepalive itself ended the child, when it did (the watchdog, a probe, the OOM killer).
 * `signal` is the one keepalive sent first; SIGKILL may have followed after the kill timeout.
 */
export type KillCause =
  | { cause: 'hung'; signal: SignalName; reason: HangReason; silentMs: number }
  | { cause: 'unhealthy'; signal: SignalName; failures: number }
  | { cause: 'oom' };

export type Outcome =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: SignalName }
  | { kind: 'crashed'; signal: SignalName; coreDumps: CoreDumps }
  /** `sent` is the hang signal; `signal` the last one keepalive sent (SIGKILL if `sent` was not enough). */
  | { kind: 'hung'; signal: SignalName; sent: SignalName; reason: HangReason; silentMs: number; coreDumps: CoreDumps }
  | { kind: 'unhealthy'; signal: SignalName; sent: SignalName; failures: number }
  | { kind: 'oom-killed' }
  | { kind: 'not-started'; reason: 'not-found' | 'not-executable'; errno: string; command: string };

export interface ClassifyContext {
  cause?: KillCause;
  coreDumps?: CoreDumps;
}

/** exec errors that mean "there is no such command" (127); any other means "cannot run it" (126). */
const NOT_FOUND_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

export function classify(facts: ExitFacts, context: ClassifyContext = {}): Outcome {
  if (!facts.started) {
    const reason = NOT_FOUND_ERRNOS.has(facts.errno) ? 'not-found' : 'not-executable';
    return { kind: 'not-started', reason, errno: facts.errno, command: facts.command };
  }
  const { cause } = context;
  if (cause?.cause === 'hung' || cause?.cause === 'unhealthy') {
    // Only keepalive sends SIGKILL after its own signal: the escalation. Otherwise the status is
    // 128 + the signal it sent, even if the child caught that signal and exited with a code.
    const signal = facts.signal === 'SIGKILL' ? 'SIGKILL' : cause.signal;
    if (cause.cause === 'unhealthy') return { kind: 'unhealthy', signal, sent: cause.signal, failures: cause.failures };
    const { reason, silentMs } = cause;
    return { kind: 'hung', signal, sent: cause.signal, reason, silentMs, coreDumps: context.coreDumps ?? 'unknown' };
  }
  if (cause?.cause === 'oom' && facts.signal === 'SIGKILL') return { kind: 'oom-killed' };
  if (facts.signal !== null) {
    if (signalFacts(facts.signal).dumpsCore) {
      return { kind: 'crashed', signal: facts.signal, coreDumps: context.coreDumps ?? 'unknown' };
    }
    return { kind: 'killed', signal: facts.signal };
  }
  return { kind: 'exited', code: facts.code ?? 0 };
}

/** keepalive's own exit status when it ends with this outcome: the code, or 128 + the signal. */
export function exitStatus(outcome: Outcome): number {
  switch (outcome.kind) {
    case 'exited':
      return outcome.code;
    case 'killed':
    case 'crashed':
    case 'hung':
    case 'unhealthy':
      return 128 + signalNumber(outcome.signal);
    case 'oom-killed':
      return 128 + signalNumber('SIGKILL');
    case 'not-started':
      return outcome.reason === 'not-found' ? 127 : 126;
  }
}

/** The words after "app[4321] " in a log line: "crashed: SIGSEGV (Segmentation fault), status 139". */
export function describeOutcome(outcome: Outcome): string {
  const status = exitStatus(outcome);
  switch (outcome.kind) {
    case 'exited':
      return `exited with code ${outcome.code}`;
    case 'killed':
      return `killed: ${signalWords(outcome.signal)}, status ${status}`;
    case 'crashed':
      return `crashed: ${signalWords(outcome.signal)}, status ${status}${CORE_WORDS[outcome.coreDumps]}`;
    case 'hung':
      return `hung: ${hangWords(outcome.reason, outcome.silentMs)}, ${killWords(outcome.sent, outcome.signal)}, status ${status}${
        signalFacts(outcome.signal).dumpsCore ? CORE_WORDS[outcome.coreDumps] : ''
      }`;
    case 'unhealthy':
      return `unhealthy: ${healthWords(outcome.failures)}, ${killWords(outcome.sent, outcome.signal)}, status ${status}`;
    case 'oom-killed':
      return `oom-killed: out of memory, the kernel's OOM killer sent SIGKILL, status ${status}`;
    case 'not-started':
      return outcome.reason === 'not-found'
        ? `not started: command not found: ${outcome.command}, status ${status}`
        : `not started: ${outcome.command} is not executable (${outcome.errno}), status ${status}`;
  }
}

const CORE_WORDS: Record<CoreDumps, string> = {
  possible: ', a core file may have been written',
  disabled: ', no core file (core size limit is 0)',
  unknown: '',
};

/** "no heartbeat for 5s": what made keepalive call the child hung. */
export function hangWords(reason: HangReason, silentMs: number): string {
  switch (reason) {
    case 'no-heartbeat':
      return `no heartbeat for ${formatDuration(silentMs)}`;
    case 'trigger':
      return 'it sent WATCHDOG=trigger';
    case 'stop-timeout':
      return `still running ${formatDuration(silentMs)} after STOPPING=1`;
  }
}

export function healthWords(failures: number): string {
  return failures === 1 ? 'health check failed' : `health check failed ${failures} times in a row`;
}

function killWords(sent: SignalName, last: SignalName): string {
  const killed = `killed with ${signalWords(last)}`;
  return sent === last ? killed : `${sent} did not end it, ${killed}`;
}

function signalWords(name: SignalName): string {
  return `${name} (${signalFacts(name).description})`;
}

/** Reads a raw wait(2) status word, as the reaper gets it from waitpid(). */
export function factsFromWaitStatus(status: number): { code: number | null; signal: number | null } {
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: termSignal };
}
