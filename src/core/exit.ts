// How a child ended, in the words every log line uses. Pure: facts in, outcome and words out.
import { formatDuration } from './duration.js';
import { signalFacts, signalNumber, type SignalName } from './signals.js';

/** Whether a crash could have left a core file, as far as keepalive can tell from its own limits. */
export type CoreDumps = 'possible' | 'disabled' | 'unknown';

/** What the operating system reported, before any interpretation. */
export type ExitFacts =
  | { started: true; code: number | null; signal: SignalName | null }
  | { started: false; errno: string; command: string };

/** Why keepalive itself ended the child, when it did (the watchdog, a probe, the OOM killer). */
export type KillCause =
  | { cause: 'hung'; signal: SignalName; silentMs: number }
  | { cause: 'unhealthy'; signal: SignalName; failures: number }
  | { cause: 'oom' };

export type Outcome =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: SignalName }
  | { kind: 'crashed'; signal: SignalName; coreDumps: CoreDumps }
  | { kind: 'hung'; signal: SignalName; silentMs: number }
  | { kind: 'unhealthy'; signal: SignalName; failures: number }
  | { kind: 'oom-killed' }
  | { kind: 'not-started'; reason: 'not-found' | 'not-executable'; errno: string; command: string };

export interface ClassifyContext {
  cause?: KillCause;
  coreDumps?: CoreDumps;
}

export function classify(facts: ExitFacts, context: ClassifyContext = {}): Outcome {
  if (!facts.started) {
    const reason = facts.errno === 'ENOENT' ? 'not-found' : 'not-executable';
    return { kind: 'not-started', reason, errno: facts.errno, command: facts.command };
  }
  const { cause } = context;
  if (cause?.cause === 'hung') return { kind: 'hung', signal: cause.signal, silentMs: cause.silentMs };
  if (cause?.cause === 'unhealthy') return { kind: 'unhealthy', signal: cause.signal, failures: cause.failures };
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
      return `hung: no heartbeat for ${formatDuration(outcome.silentMs)}, killed with ${outcome.signal}, status ${status}`;
    case 'unhealthy':
      return `unhealthy: health check failed ${outcome.failures} times in a row, killed with ${outcome.signal}, status ${status}`;
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

function signalWords(name: SignalName): string {
  return `${name} (${signalFacts(name).description})`;
}

/** Reads a raw wait(2) status word, as the reaper gets it from waitpid(). */
export function factsFromWaitStatus(status: number): { code: number | null; signal: number | null } {
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: termSignal };
}
