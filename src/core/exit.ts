// How a child ended, in the words every log line uses. Pure: facts in, outcome and words out.
import { formatDuration } from './duration.js';
import type { HangReason } from './heartbeat.js';
import { formatSize } from './size.js';
import {
  signalFacts,
  signalLabel,
  signalNameOf,
  signalNumber,
  type SignalName,
} from './signals.js';

/**
 * Whether a crash left a core file: 'dumped' when the wait status says so (WCOREDUMP); otherwise
 * as far as keepalive can tell from its own limits, which the child inherits.
 */
export type CoreDumps = 'dumped' | 'not-dumped' | 'possible' | 'disabled' | 'unknown';

/** What the operating system reported, before any interpretation. */
export type ExitFacts =
  | {
      started: true;
      code: number | null;
      signal: SignalName | null;
      /** From the wait status (WCOREDUMP); undefined where only Node's report was had. */
      coreDumped?: boolean;
    }
  | { started: false; errno: string; command: string; missingInterpreter?: string };

/**
 * Why keepalive itself ended the child, when it did (the watchdog, a probe).
 * `signal` is the one keepalive sent first; SIGKILL may have followed after the kill timeout.
 */
export type KillCause =
  | { kind: 'hung'; signal: SignalName; reason: HangReason; silentMs: number }
  | { kind: 'unhealthy'; signal: SignalName; failures: number }
  /** The whole tree's memory (the sum of its processes' RSS) was over --max-memory. */
  | { kind: 'over-memory'; signal: SignalName; usedBytes: number; limitBytes: number };

export type Outcome =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: SignalName }
  | { kind: 'crashed'; signal: SignalName; coreDumps: CoreDumps }
  /**
   * `sent` is the hang signal; `signal` the last one keepalive sent (SIGKILL if `sent` was not
   * enough); `exitCode` is set when the child caught the signal and exited by itself.
   */
  | {
      kind: 'hung';
      signal: SignalName;
      sent: SignalName;
      exitCode?: number;
      reason: HangReason;
      silentMs: number;
      coreDumps: CoreDumps;
    }
  | { kind: 'unhealthy'; signal: SignalName; sent: SignalName; exitCode?: number; failures: number }
  | {
      kind: 'over-memory';
      signal: SignalName;
      sent: SignalName;
      exitCode?: number;
      usedBytes: number;
      limitBytes: number;
    }
  | { kind: 'oom-killed' }
  | {
      kind: 'not-started';
      reason: 'not-found' | 'not-executable' | 'no-interpreter';
      errno: string;
      command: string;
      interpreter?: string;
    };

export interface ClassifyContext {
  cause?: KillCause | undefined;
  /** The kernel's OOM killer struck in the child's memory cgroup while it ran. */
  oomKilled?: boolean;
  coreDumps?: CoreDumps;
}

/**
 * exec errors that mean "there is no such command" (127); any other means "cannot run it" (126).
 */
const NOT_FOUND_ERRNOS = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

export function classify(facts: ExitFacts, context: ClassifyContext = {}): Outcome {
  if (!facts.started) {
    const { errno, command, missingInterpreter: interpreter } = facts;
    if (interpreter !== undefined)
      return { kind: 'not-started', reason: 'no-interpreter', errno, command, interpreter };
    return {
      kind: 'not-started',
      reason: NOT_FOUND_ERRNOS.has(errno) ? 'not-found' : 'not-executable',
      errno,
      command,
    };
  }
  const { cause } = context;
  // The kernel's OOM killer may take the child while keepalive's stop for its size is under way.
  const oomFirst = context.oomKilled === true && facts.signal === 'SIGKILL';
  if (cause?.kind === 'over-memory' && oomFirst) return { kind: 'oom-killed' };
  const limits = context.coreDumps ?? 'unknown';
  // The wait status is the kernel's word; the core size limit only explains a "no".
  const coreDumps: CoreDumps =
    facts.coreDumped === undefined
      ? limits
      : facts.coreDumped
        ? 'dumped'
        : limits === 'disabled'
          ? 'disabled'
          : 'not-dumped';
  if (cause) {
    // Only keepalive sends SIGKILL after its own signal: the escalation. A child that caught the
    // signal and exited by itself keeps its code in the words; the status is still 128 + the
    // signal.
    const signal = facts.signal === 'SIGKILL' ? 'SIGKILL' : cause.signal;
    const exited = facts.signal === null ? { exitCode: facts.code ?? 0 } : {};
    if (cause.kind === 'unhealthy')
      return { kind: 'unhealthy', signal, sent: cause.signal, ...exited, failures: cause.failures };
    if (cause.kind === 'over-memory')
      return {
        kind: 'over-memory',
        signal,
        sent: cause.signal,
        ...exited,
        usedBytes: cause.usedBytes,
        limitBytes: cause.limitBytes,
      };
    const { reason, silentMs } = cause;
    return { kind: 'hung', signal, sent: cause.signal, ...exited, reason, silentMs, coreDumps };
  }
  if (oomFirst) return { kind: 'oom-killed' };
  if (facts.signal !== null) {
    if (signalFacts(facts.signal).dumpsCore || facts.coreDumped === true)
      return { kind: 'crashed', signal: facts.signal, coreDumps };
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
    case 'over-memory':
      return 128 + signalNumber(outcome.signal);
    case 'oom-killed':
      return 128 + signalNumber('SIGKILL');
    case 'not-started':
      return outcome.reason === 'not-executable' ? 126 : 127;
  }
}

/**
 * The words after "app[4321] " in a log line: "crashed: SIGSEGV (Segmentation fault), status 139".
 */
export function describeOutcome(outcome: Outcome): string {
  const status = exitStatus(outcome);
  switch (outcome.kind) {
    case 'exited':
      return `exited with code ${outcome.code}`;
    case 'killed':
      return `killed: ${signalWords(outcome.signal)}, status ${status}`;
    case 'crashed':
      return (
        `crashed: ${signalWords(outcome.signal)}, status ` +
        `${status}${CORE_WORDS[outcome.coreDumps]}`
      );
    case 'hung':
      return (
        `hung: ${hangWords(outcome.reason, outcome.silentMs)}, ${killWords(outcome)}, ` +
        `status ${status}${
          outcome.exitCode === undefined && signalFacts(outcome.signal).dumpsCore
            ? CORE_WORDS[outcome.coreDumps]
            : ''
        }`
      );
    case 'unhealthy':
      return `unhealthy: ${healthWords(outcome.failures)}, ${killWords(outcome)}, status ${status}`;
    case 'over-memory':
      return (
        `over its memory limit: ${memoryWords(outcome.usedBytes, outcome.limitBytes)}, ` +
        `${killWords(outcome)}, status ${status}`
      );
    case 'oom-killed':
      return `oom-killed: out of memory, the kernel's OOM killer sent SIGKILL, status ${status}`;
    case 'not-started':
      switch (outcome.reason) {
        case 'not-found':
          return `not started: command not found: ${outcome.command}, status ${status}`;
        case 'no-interpreter':
          return (
            `not started: ${outcome.command} names the interpreter ` +
            `${outcome.interpreter ?? '?'} in its #! line, and that is not found, status ${status}`
          );
        case 'not-executable':
          return (
            `not started: ${outcome.command} is not executable (${outcome.errno}), status ` +
            `${status}`
          );
      }
  }
}

const CORE_WORDS: Record<CoreDumps, string> = {
  dumped: ', core dumped',
  'not-dumped': ', no core file',
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

/** "212MB, limit 200MB (whole tree)": what made keepalive stop the child for its size. */
export function memoryWords(usedBytes: number, limitBytes: number): string {
  return `${formatSize(usedBytes)}, limit ${formatSize(limitBytes)} (whole tree)`;
}

export function healthWords(failures: number): string {
  return failures === 1 ? 'health check failed' : `health check failed ${failures} times in a row`;
}

/**
 * How the child ended after keepalive's signal: killed by it, escalated to SIGKILL, or exited by
 * itself.
 */
function killWords(outcome: { sent: SignalName; signal: SignalName; exitCode?: number }): string {
  const { sent, signal: last, exitCode } = outcome;
  if (exitCode !== undefined) return `stopped with ${sent}, exited with code ${exitCode}`;
  const killed = `killed with ${signalWords(last)}`;
  return sent === last ? killed : `${sent} did not end it, ${killed}`;
}

function signalWords(name: SignalName): string {
  return `${signalLabel(name)} (${signalFacts(name).description})`;
}

/** Reads a raw wait(2) status word: the exit code, or the signal and whether a core was dumped. */
export function factsFromWaitStatus(status: number): ExitFacts & { started: true } {
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { started: true, code: (status >> 8) & 0xff, signal: null };
  const signal = signalNameOf(termSignal);
  // Every number 1-64 has a name in human-signals; a number past that cannot come from Linux.
  if (signal === undefined) return { started: true, code: 128 + termSignal, signal: null };
  return { started: true, code: null, signal, coreDumped: (status & 0x80) !== 0 };
}
