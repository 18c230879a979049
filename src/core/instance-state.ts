// Who owns a pidfile, decided from facts alone: what the files beside it say and what /proc says
// about the pids they name. The shell gathers the facts; nothing here reads a file or a clock.
import type { Outcome } from './exit.js';
import { bounded } from './shown-text.js';
import type { SignalName } from './signals.js';
import { who } from './who.js';
import type { ProcessView } from '../set/types.js';

/**
 * A process as keepalive recognises it again later: pid and start time (clock ticks since boot).
 */
export interface ProcessIdentity {
  pid: number;
  /** Null when the process was already gone when it was recorded (only its group was left). */
  startTime: number | null;
}

/**
 * What the supervisor is doing, as written to the state file. While a child runs: `running`, then
 * what it says of itself (sd_notify): `ready` after READY=1, `reloading` after RELOADING=1 until
 * the next READY=1, `stopping` after STOPPING=1 (as when keepalive stops it).
 */
export type Phase = 'starting' | 'running' | 'ready' | 'reloading' | 'restarting' | 'stopping';

/** The phases in which the child runs and does its work: `keepalive status` exits 0. */
export function childRuns(phase: Phase): boolean {
  return phase === 'running' || phase === 'ready' || phase === 'reloading';
}

export interface LastExit {
  pid: number | null;
  outcome: Outcome;
  status: number;
  /** The log line's words: "killed: SIGTERM (Termination), status 143". */
  words: string;
  at: string;
}

/** One process of a set, as FILE.state records it (`processes`). */
export interface ProcessRecord {
  name: string;
  /** The engine's word for it (ProcessView's state). */
  state: ProcessView['state'];
  ready: boolean;
  child: (ProcessIdentity & { startTime: number; startedAt: string }) | null;
  restarts: number;
  lastExit: LastExit | null;
  /** What its last run left in its group, while the supervisor sweeps it. */
  sweeping?: ProcessIdentity[];
  /** How a keepalive that finds it left running after a SIGKILL stops it. */
  stopSignal: SignalName;
  killTimeoutMs: number;
}

/**
 * The state file beside the pidfile (FILE.state), kept current by the supervisor that owns FILE.
 * A single command's record has its one process in the top-level fields (name, child, restarts,
 * lastExit ...), as every release wrote it; a set's has `processes` too, one entry each, and its
 * top-level `child` is null.
 */
export interface InstanceRecord {
  version: 1;
  pidfile: string;
  name: string;
  supervisor: ProcessIdentity & { startTime: number };
  /** /proc/sys/kernel/random/boot_id: pids and start times only mean something within one boot. */
  bootId: string;
  /** Wall-clock ISO times, for uptimes a person reads. */
  startedAt: string;
  phase: Phase;
  child: (ProcessIdentity & { startTime: number; startedAt: string }) | null;
  /** Processes a killed predecessor left running, while this supervisor is stopping them. */
  leftovers: ProcessIdentity[];
  /**
   * The killed supervisors whose trees this one is stopping: their processes carry KEEPALIVE_PID
   * of one of these, not ours, so the next one needs them to find what is left if we die too.
   */
  predecessors?: Array<ProcessIdentity & { startTime: number }>;
  /** What a run left in its group, while the supervisor sweeps it (the child is null by then). */
  sweeping?: ProcessIdentity[];
  restarts: number;
  lastExit: LastExit | null;
  /** The child's last STATUS= text; empty until it sends one. */
  lastStatusText: string;
  /** With -c/--procfile: every process of the set. */
  processes?: ProcessRecord[];
  /** With --max-memory: the whole tree's memory at the last check, and the limit. */
  memory?: { bytes: number; limitBytes: number; at: string } | null;
  stopSignal: SignalName;
  killTimeoutMs: number;
  /**
   * How long keepalive may still take once its child is gone: the last on-exit hooks (2 ×
   * --on-exit-timeout).
   */
  hookWaitMs?: number;
  /** The last `keepalive rotate` served, for the command that asked to see it done. */
  rotation?: RotationRecord;
}

/** A served `keepalive rotate`: its request's id, and what became of each process's file. */
export interface RotationRecord {
  id: string;
  at: string;
  /** One per process asked. */
  files: RotatedFile[];
}

/**
 * One process's part of a rotation: its output file (null: it writes none; two names with
 * --output-stderr), and why it was not rotated (`problem`), or was passed over (`skipped`: it does
 * not run now, so its file is not open).
 */
export interface RotatedFile {
  name: string;
  file: string | null;
  problem?: string;
  skipped?: string;
}

/** The fields of /proc/<pid>/stat that keepalive uses. */
export interface ProcStat {
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  startTime: number;
}

/** What /proc says about one pid now. */
export type ProcessFacts = { exists: false } | { exists: true; stat: ProcStat };

/**
 * /proc/<pid>/stat: "pid (comm) state ppid pgrp session ...". comm may hold spaces and parentheses.
 */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields from the third on (state is field 3), so field N is at index N - 3.
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  const number = (field: number): number => Number(fields[field - 3]);
  const stat = {
    state: fields[0] ?? '',
    ppid: number(4),
    pgid: number(5),
    sid: number(6),
    startTime: number(22),
  };
  return [stat.ppid, stat.pgid, stat.sid, stat.startTime].every(Number.isInteger)
    ? stat
    : undefined;
}

/** "1234\n" → 1234; anything else → undefined. */
export function parsePid(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const pid = Number(trimmed);
  return pid > 0 ? pid : undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Reads a state file's text, refusing anything that is not a record this version wrote. */
export function parseRecord(text: string): Parsed<InstanceRecord> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const record = value as Partial<InstanceRecord> | null;
  if (typeof record !== 'object' || record === null || record.version !== 1)
    return { ok: false, problem: 'not a version 1 state' };
  const identity = record.supervisor;
  if (!identity || !Number.isInteger(identity.pid) || !Number.isInteger(identity.startTime)) {
    return { ok: false, problem: 'no supervisor identity' };
  }
  if (
    typeof record.pidfile !== 'string' ||
    typeof record.bootId !== 'string' ||
    typeof record.phase !== 'string' ||
    !Array.isArray(record.leftovers)
  ) {
    return { ok: false, problem: 'fields missing' };
  }
  const child = record.child as unknown;
  const identities = (list: unknown): boolean =>
    list === undefined || (Array.isArray(list) && list.every(isIdentity));
  if (
    (child !== null && !isIdentity(child)) ||
    !identities(record.leftovers) ||
    !identities(record.sweeping) ||
    !identities(record.predecessors)
  ) {
    return { ok: false, problem: 'a pid that is not a number' };
  }
  const processes = record.processes as unknown;
  if (processes !== undefined && !(Array.isArray(processes) && processes.every(isProcess)))
    return { ok: false, problem: 'a process that is not a record' };
  return { ok: true, value: record as InstanceRecord };
}

function isProcess(value: unknown): boolean {
  const entry = (value ?? {}) as Partial<ProcessRecord>;
  const child = entry.child as unknown;
  return (
    typeof entry.name === 'string' &&
    typeof entry.state === 'string' &&
    Number.isInteger(entry.restarts) &&
    (child === null || isIdentity(child)) &&
    (entry.sweeping === undefined ||
      (Array.isArray(entry.sweeping) && entry.sweeping.every(isIdentity)))
  );
}

/**
 * Every process a record names: a set's `processes`, or a single command's one process from the
 * top-level fields (as every record before sets, and every single command's since).
 */
export function recordProcesses(record: InstanceRecord): ProcessRecord[] {
  if (record.processes) return record.processes;
  const runs = record.child !== null && childRuns(record.phase);
  return [
    {
      name: record.name,
      state: singleState(record),
      ready: runs && record.phase !== 'running',
      child: record.child,
      restarts: record.restarts,
      lastExit: record.lastExit,
      ...(record.sweeping ? { sweeping: record.sweeping } : {}),
      stopSignal: record.stopSignal,
      killTimeoutMs: record.killTimeoutMs,
    },
  ];
}

/** A single command's phase in the set's words. */
function singleState(record: InstanceRecord): ProcessRecord['state'] {
  switch (record.phase) {
    case 'starting':
      return 'waiting';
    case 'restarting':
      return 'backing-off';
    case 'stopping':
      return record.child === null ? 'ended' : 'stopping';
    default:
      return 'running';
  }
}

function isIdentity(value: unknown): boolean {
  const { pid, startTime } = (value ?? {}) as Partial<ProcessIdentity>;
  return Number.isInteger(pid) && (startTime === null || Number.isInteger(startTime));
}

export type StaleReason = 'dead' | 'rebooted' | 'reused' | 'not-keepalive' | 'empty';

/** Who owns a pidfile, from what the files say and what /proc says about the pid they name. */
export type Verdict =
  | { kind: 'absent' }
  | { kind: 'running'; pid: number; record: InstanceRecord | undefined }
  | {
      kind: 'stale';
      pid: number | undefined;
      reason: StaleReason;
      record: InstanceRecord | undefined;
    }
  /** Cannot tell, or the files are not keepalive's: nothing may be taken over or removed. */
  | { kind: 'unknown'; pid: number | undefined; problem: string };

export interface InstanceFacts {
  /** Absolute path of the pidfile. */
  pidfile: string;
  /** The pidfile's text; undefined when there is none. */
  pidText: string | undefined;
  /**
   * The state file, parsed; undefined when there is none or it is unreadable (see recordProblem).
   */
  record: InstanceRecord | undefined;
  recordProblem?: string;
  /** /proc about the pid the files name (the record's, else the pidfile's). */
  supervisor: ProcessFacts | undefined;
  /**
   * The pids /proc/locks names as holding FILE.lock's flock (none when there is no FILE.lock);
   * undefined when /proc/locks cannot be read.
   */
  lockHolders: readonly number[] | undefined;
  /** This boot's id. */
  bootId: string;
}

/**
 * The pid whose facts judgeInstance needs: the record is the supervisor's own word, the pidfile a
 * copy.
 */
export function namedPid(
  pidText: string | undefined,
  record: InstanceRecord | undefined,
): number | undefined {
  return record?.supervisor.pid ?? (pidText === undefined ? undefined : parsePid(pidText));
}

export function judgeInstance(facts: InstanceFacts): Verdict {
  const { record, supervisor } = facts;
  if (facts.pidText === undefined && record === undefined && facts.recordProblem === undefined)
    return { kind: 'absent' };
  // Atomic writes never leave a torn file: one that does not parse was written by someone else.
  if (facts.recordProblem !== undefined)
    return {
      kind: 'unknown',
      pid: undefined,
      problem: `the state file beside it is not keepalive's (${facts.recordProblem})`,
    };
  const pid = namedPid(facts.pidText, record);
  if (pid === undefined && facts.pidText?.trim())
    return { kind: 'unknown', pid, problem: 'it holds no pid: not a pidfile?' };
  if (pid === undefined || supervisor === undefined)
    return { kind: 'stale', pid, reason: 'empty', record };
  // A zombie has ended; it only waits for its parent (or init, which may be slow) to reap it.
  if (!supervisor.exists || supervisor.stat.state === 'Z')
    return { kind: 'stale', pid, reason: 'dead', record };
  if (record) {
    if (record.pidfile !== facts.pidfile)
      return {
        kind: 'unknown',
        pid,
        problem: `the state file beside it is for another pidfile (${record.pidfile})`,
      };
    // Pids and start times only name the process that wrote the record within one boot.
    if (record.bootId !== facts.bootId) return { kind: 'stale', pid, reason: 'rebooted', record };
    if (supervisor.stat.startTime !== record.supervisor.startTime)
      return { kind: 'stale', pid, reason: 'reused', record };
  }
  // Only keepalive takes FILE.lock, and the kernel names its holder whatever the program is called:
  // a pid that does not hold it is not FILE's supervisor, whatever the files say.
  if (facts.lockHolders === undefined) {
    const problem = `cannot read /proc/locks to prove that pid ${pid} holds ${facts.pidfile}.lock`;
    return { kind: 'unknown', pid, problem };
  }
  if (!facts.lockHolders.includes(pid)) {
    return { kind: 'stale', pid, reason: 'not-keepalive', record };
  }
  return { kind: 'running', pid, record };
}

/** "keepalive[4321] is gone", for the takeover line and `status`. */
export function staleWords(reason: StaleReason, pid: number | undefined): string {
  switch (reason) {
    case 'dead':
      return `${who('keepalive', pid)} is gone`;
    case 'rebooted':
      return `${who('keepalive', pid)} ran before the machine restarted`;
    case 'reused':
    case 'not-keepalive':
      return `pid ${pid} is no longer keepalive but another program`;
    case 'empty':
      return 'it is empty';
  }
}

/**
 * The longest texts a record holds, so that it always reads back (FILE.state is read up to 1 MiB).
 */
const RECORD_BOUNDS = { name: 256, statusText: 4096, words: 1024, identities: 256 } as const;

function boundRotation(rotation: RotationRecord): RotationRecord {
  return {
    ...rotation,
    files: rotation.files.slice(0, RECORD_BOUNDS.identities).map((entry) => ({
      ...entry,
      name: bounded(entry.name, RECORD_BOUNDS.name),
      file: entry.file === null ? null : bounded(entry.file, RECORD_BOUNDS.words),
      ...(entry.problem === undefined
        ? {}
        : { problem: bounded(entry.problem, RECORD_BOUNDS.words) }),
      ...(entry.skipped === undefined
        ? {}
        : { skipped: bounded(entry.skipped, RECORD_BOUNDS.words) }),
    })),
  };
}

/** The record with every field keepalive does not choose itself cut to RECORD_BOUNDS. */
export function boundRecord(record: InstanceRecord): InstanceRecord {
  const few = <T>(list: readonly T[] | undefined): T[] | undefined =>
    list?.slice(0, RECORD_BOUNDS.identities);
  const sweeping = few(record.sweeping);
  const predecessors = few(record.predecessors);
  const processes = few(record.processes)?.map((entry) => {
    const swept = few(entry.sweeping);
    return {
      ...entry,
      name: bounded(entry.name, RECORD_BOUNDS.name),
      lastExit: entry.lastExit && {
        ...entry.lastExit,
        words: bounded(entry.lastExit.words, RECORD_BOUNDS.words),
      },
      ...(swept ? { sweeping: swept } : {}),
    };
  });
  return {
    ...record,
    name: bounded(record.name, RECORD_BOUNDS.name),
    lastStatusText: bounded(record.lastStatusText, RECORD_BOUNDS.statusText),
    lastExit: record.lastExit && {
      ...record.lastExit,
      words: bounded(record.lastExit.words, RECORD_BOUNDS.words),
    },
    leftovers: few(record.leftovers) ?? [],
    ...(record.rotation ? { rotation: boundRotation(record.rotation) } : {}),
    ...(sweeping ? { sweeping } : {}),
    ...(predecessors ? { predecessors } : {}),
    ...(processes ? { processes } : {}),
  };
}
