// What `keepalive status` says, from a verdict and the time: one object for scripts, a few lines
// (a table for a set) for people, and the LSB init-script exit status (0 running, 1 keepalive runs
// but its child does not, or a process of its set does not, 3 not running, 4 unknown). Only 0 says
// every process runs, so that `status` can be a health check.
import { formatDuration } from './duration.js';
import type { Outcome } from './exit.js';
import { formatSize } from './size.js';
import {
  childRuns,
  recordProcesses,
  staleWords,
  type InstanceRecord,
  type ProcessRecord,
  type Verdict,
} from './instance-state.js';
import { stripControl } from './shown-text.js';
import { who } from './who.js';

export type ReportedState = InstanceRecord['phase'] | 'not-running' | 'stale' | 'unknown';

/** One process, while keepalive runs. */
export interface ProcessReport {
  name: string;
  state: ProcessRecord['state'];
  pid: number | null;
  uptimeMs: number | null;
  restarts: number;
  /** The last exit in words, and keepalive's status for it. */
  lastExit: string | null;
  lastStatus: number | null;
  lastOutcome: Outcome | null;
  ready: boolean;
}

export interface StatusReport {
  state: ReportedState;
  /** Why it is stale or unknown, in words; empty otherwise. */
  reason: string;
  pidfile: string;
  name: string | null;
  supervisorPid: number | null;
  childPid: number | null;
  uptimeMs: number | null;
  childUptimeMs: number | null;
  restarts: number | null;
  lastExit: string | null;
  lastOutcome: Outcome | null;
  lastStatusText: string;
  /** With --max-memory, while the child runs: the whole tree's memory at the last check. */
  memory: { bytes: number; limitBytes: number; at: string } | null;
  /** Every process while keepalive runs (one for a single command); empty when it does not. */
  processes: ProcessReport[];
  /** Whether the record is a set's (-c, --procfile): `status` then prints a table. */
  set: boolean;
}

/** LSB's 1 is "dead and the pidfile exists": here the child is, between runs or stopping. */
export const LSB = { running: 0, childNotRunning: 1, notRunning: 3, unknown: 4 } as const;

export interface StatusFacts {
  pidfile: string;
  verdict: Verdict;
  /** A child a killed supervisor left running, if one was found alive. */
  orphanPid?: number | undefined;
  /** Epoch milliseconds. */
  now: number;
}

/**
 * The report, with every text from a record (or a child, through it) stripped of control
 * characters.
 */
export function statusReport(facts: StatusFacts): { report: StatusReport; exitStatus: number } {
  const { report, exitStatus } = rawReport(facts);
  const clean = (text: string | null): string | null => (text === null ? null : stripControl(text));
  return {
    report: {
      ...report,
      reason: stripControl(report.reason),
      name: clean(report.name),
      lastExit: clean(report.lastExit),
      lastStatusText: stripControl(report.lastStatusText),
      processes: report.processes.map((entry) => ({
        ...entry,
        name: stripControl(entry.name),
        lastExit: clean(entry.lastExit),
      })),
    },
    exitStatus,
  };
}

function rawReport(facts: StatusFacts): { report: StatusReport; exitStatus: number } {
  const { verdict, now } = facts;
  const record =
    verdict.kind === 'running' || verdict.kind === 'stale' ? verdict.record : undefined;
  const since = (iso: string | undefined): number | null =>
    iso === undefined ? null : Math.max(0, now - Date.parse(iso));
  const base: StatusReport = {
    state: 'not-running',
    reason: '',
    pidfile: facts.pidfile,
    name: record?.name ?? null,
    supervisorPid: null,
    childPid: null,
    uptimeMs: null,
    childUptimeMs: null,
    restarts: record?.restarts ?? null,
    lastExit: record?.lastExit?.words ?? null,
    lastOutcome: record?.lastExit?.outcome ?? null,
    lastStatusText: record?.lastStatusText ?? '',
    memory: null,
    processes: [],
    set: record?.processes !== undefined,
  };
  switch (verdict.kind) {
    case 'absent':
      return { report: { ...base, reason: `no ${facts.pidfile}` }, exitStatus: LSB.notRunning };
    case 'unknown':
      return {
        report: {
          ...base,
          state: 'unknown',
          reason: verdict.problem,
          supervisorPid: verdict.pid ?? null,
        },
        exitStatus: LSB.unknown,
      };
    case 'stale':
      return {
        report: {
          ...base,
          state: 'stale',
          reason: `stale ${facts.pidfile}: ${staleWords(verdict.reason, verdict.pid)}`,
          supervisorPid: verdict.pid ?? null,
          childPid: facts.orphanPid ?? null,
        },
        exitStatus: LSB.notRunning,
      };
    case 'running': {
      const processes = record
        ? recordProcesses(record).map((entry) => processReport(entry, since))
        : [];
      const runs = record?.processes
        ? childRuns(record.phase) && record.processes.every(doesItsWork)
        : record?.child && childRuns(record.phase);
      return {
        report: {
          ...base,
          state: record?.phase ?? 'starting',
          supervisorPid: verdict.pid,
          childPid: record?.child?.pid ?? null,
          uptimeMs: since(record?.startedAt),
          childUptimeMs: since(record?.child?.startedAt),
          memory: record?.child ? memoryOf(record, record.child.startedAt) : null,
          processes,
        },
        exitStatus: runs ? LSB.running : LSB.childNotRunning,
      };
    }
  }
}

/**
 * A process of a set does its work when it runs (ready or not yet: as a single command's child
 * that has not sent READY=1), or has completed: ended with status 0.
 */
function doesItsWork(entry: ProcessRecord): boolean {
  if (entry.state === 'running' || entry.state === 'starting') return entry.child !== null;
  return entry.state === 'ended' && entry.lastExit?.status === 0;
}

function processReport(
  entry: ProcessRecord,
  since: (iso: string | undefined) => number | null,
): ProcessReport {
  return {
    name: entry.name,
    state: entry.state,
    pid: entry.child?.pid ?? null,
    uptimeMs: since(entry.child?.startedAt),
    restarts: entry.restarts,
    lastExit: entry.lastExit?.words ?? null,
    lastStatus: entry.lastExit?.status ?? null,
    lastOutcome: entry.lastExit?.outcome ?? null,
    ready: entry.ready,
  };
}

/** The report for a person: a headline, then one line per fact that is known. */
export function statusText(report: StatusReport): string {
  const name = report.name ?? 'child';
  const lines: string[] = [];
  if (report.state === 'not-running' || report.state === 'stale' || report.state === 'unknown') {
    lines.push(`${report.state === 'unknown' ? 'unknown' : 'not running'}: ${report.reason}`);
    if (report.childPid !== null) {
      lines.push(
        `left running: ${who(name, report.childPid)}, by a keepalive that was killed; the next ` +
          `keepalive or \`keepalive stop\` stops it`,
      );
    }
  } else if (report.set) {
    lines.push(
      `${report.state}: ${who('keepalive', report.supervisorPid)}, up ${duration(report.uptimeMs)}`,
    );
    return [...lines, ...processTable(report.processes)].map((line) => `${line}\n`).join('');
  } else {
    lines.push(
      `${report.state}: ${who('keepalive', report.supervisorPid)}, up ${duration(report.uptimeMs)}`,
    );
    lines.push(
      report.childPid === null
        ? `child: ${name} is not running now`
        : `child: ${who(name, report.childPid)}, up ${duration(report.childUptimeMs)}`,
    );
  }
  if (report.restarts !== null) lines.push(`restarts: ${report.restarts}`);
  if (report.lastExit !== null) lines.push(`last exit: ${report.lastExit}`);
  if (report.memory !== null)
    lines.push(
      `memory: ${formatSize(report.memory.bytes)} (whole tree), limit ` +
        `${formatSize(report.memory.limitBytes)}`,
    );
  if (report.lastStatusText !== '') lines.push(`status text: ${report.lastStatusText}`);
  return lines.map((line) => `${line}\n`).join('');
}

const COLUMNS = ['NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'READY', 'LAST EXIT'] as const;

/**
 * A set's processes, one line each, columns padded to their widest cell ("-" for nothing known);
 * the last exit's words come last, as they are the longest.
 */
export function processTable(processes: readonly ProcessReport[]): string[] {
  const rows = processes.map((entry) => [
    entry.name,
    entry.state,
    entry.pid === null ? '-' : String(entry.pid),
    entry.uptimeMs === null ? '-' : formatDuration(entry.uptimeMs),
    String(entry.restarts),
    entry.ready ? 'yes' : 'no',
    entry.lastExit ?? '-',
  ]);
  const table = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, column) =>
    Math.max(...table.map((row) => (row[column] ?? '').length)),
  );
  return table.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The record's memory check, if it says one in numbers (the file may be from anyone who can write
 * it) and was made since the child started (not the last run's).
 */
function memoryOf(record: InstanceRecord, childStartedAt: string): StatusReport['memory'] {
  const memory = record.memory;
  if (
    !memory ||
    !Number.isFinite(memory.bytes) ||
    !Number.isFinite(memory.limitBytes) ||
    typeof memory.at !== 'string'
  )
    return null;
  if (!(Date.parse(memory.at) >= Date.parse(childStartedAt))) return null;
  return { bytes: memory.bytes, limitBytes: memory.limitBytes, at: memory.at };
}

function duration(milliseconds: number | null): string {
  return milliseconds === null ? 'unknown' : formatDuration(milliseconds);
}
