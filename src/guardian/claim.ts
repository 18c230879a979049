// The cron guardian's part of the command line: claim the pidfile (or find it taken), the
// foreground half of --detach, and where keepalive's lines go with --log-file.
import { writeSync } from 'node:fs';
import type { Logger } from '../log.js';
import { basename } from 'node:path';
import { DEFAULTS, type ResolvedOptions } from '../options.js';
import type { SetOptions } from '../set/types.js';
import {
  isBackground,
  LOG_FILE_MODE,
  startInBackground,
  tellForeground,
  type StartReport,
} from './detach.js';
import { describeError, InstanceError, instancePaths, viewInstance } from './instance-files.js';
import { claimInstance, type Instance, type ProcessStop } from './instance.js';
import { openForAppend } from './safe-files.js';
import { who } from '../core/who.js';

export { foregroundTold, isBackground, reportFirstStart } from './detach.js';

/** What the guardian takes from the command line. */
export interface GuardianSettings {
  options: Pick<ResolvedOptions, 'name' | 'stopSignal' | 'killTimeout' | 'onExitTimeout'> &
    Partial<Pick<ResolvedOptions, 'onExit'>>;
  /** A set's processes (-c, --procfile): FILE.state records each. */
  processes?: readonly ProcessStop[];
  /** A set's: how long its processes' last on-exit hooks may take, all of them. */
  hookWaitMs?: number;
  pidfile: string | undefined;
  logFile: string | undefined;
  /** --log-file-shared: the log file may be another user's, or writable by others. */
  logFileShared?: boolean;
}

/**
 * The single instance for the pidfile, or the status to exit with when this keepalive is not it.
 * With `processes`, the instance is a set's: FILE.state records each, and `keepalive stop` waits
 * for the whole chain's kill timeouts.
 */
export async function claim(
  settings: GuardianSettings,
  pidfile: string,
  log: Logger,
): Promise<Instance | number> {
  const { name, stopSignal, killTimeout, onExit, onExitTimeout } = settings.options;
  const { processes } = settings;
  // At its end keepalive waits for the running hook, then runs the last exit's: each within the
  // timeout.
  const hookWaitMs = settings.hookWaitMs ?? (onExit === undefined ? 0 : 2 * onExitTimeout);
  try {
    const claimed = await claimInstance({
      pidfile,
      name,
      stopSignal,
      killTimeout,
      hookWaitMs,
      ...(processes ? { processes } : {}),
      log,
    });
    if (claimed.kind === 'claimed') return claimed.instance;
    if (claimed.kind === 'stopped') {
      tellForeground({
        kind: 'failed',
        status: 1,
        message: `stopped by ${claimed.signal} before the command was started`,
      });
      return 0;
    }
    tellForeground({ kind: 'running', pid: claimed.pid ?? null });
    sayAlreadyRunning(claimed.pid);
    return 0;
  } catch (error) {
    if (!(error instanceof InstanceError)) throw error;
    log.line('error', 'instance', error.message, { pidfile });
    tellForeground({ kind: 'failed', status: 1, message: error.message });
    return 1;
  }
}

/**
 * A set's guardian settings: named after its file; `keepalive stop` waits for the whole chain's
 * kill timeouts and on-exit hooks, each process's leftovers are stopped with its own signal.
 */
export function setGuardianSettings(
  set: SetOptions,
  file: string,
  flags: { pidfile: string | undefined; logFile: string | undefined; logFileShared: boolean },
): GuardianSettings {
  const processes = set.processes.map((entry) => ({
    name: entry.name,
    stopSignal: entry.stopSignal ?? DEFAULTS.stopSignal,
    killTimeout: entry.killTimeout ?? DEFAULTS.killTimeout,
  }));
  const hooks = set.processes.filter((entry) => entry.onExit !== undefined);
  const hookWait = hooks.reduce(
    (sum, entry) => sum + (entry.onExitTimeout ?? DEFAULTS.onExitTimeout),
    0,
  );
  return {
    options: {
      name: basename(file),
      stopSignal: DEFAULTS.stopSignal,
      killTimeout: processes.reduce((sum, entry) => sum + entry.killTimeout, 0),
      onExitTimeout: DEFAULTS.onExitTimeout,
    },
    processes,
    // Each waits for its running hook, then runs the last exit's.
    hookWaitMs: 2 * hookWait,
    ...flags,
  };
}

/** Cron mails whatever a job prints: a second keepalive says something only to a person. */
function sayAlreadyRunning(pid: number | null | undefined): void {
  if (process.stderr.isTTY !== true) return;
  process.stderr.write(`keepalive: already running (${pid ? `pid ${pid}` : 'starting'})\n`);
}

/**
 * The foreground half of --detach: start the background copy, wait for its word, say it, return.
 */
export async function detach(argv: readonly string[], settings: GuardianSettings): Promise<number> {
  if (settings.pidfile !== undefined) {
    const { verdict } = viewInstance(instancePaths(settings.pidfile));
    if (verdict.kind === 'running') {
      sayAlreadyRunning(verdict.pid);
      return 0;
    }
  }
  let report: StartReport;
  try {
    report = await startInBackground({
      argv,
      logFile: settings.logFile,
      logFileShared: settings.logFileShared === true,
      timeoutMs: settings.options.killTimeout + 30_000,
    });
  } catch (error) {
    // Only opening the log file throws here; a failed spawn is reported through the promise.
    const what =
      settings.logFile === undefined
        ? 'cannot start in the background'
        : `cannot open --log-file ${settings.logFile}`;
    process.stderr.write(`keepalive: ${what}: ${logFileProblem(error)}\n`);
    return 1;
  }
  switch (report.kind) {
    case 'started':
      if (process.stderr.isTTY === true) {
        const where = settings.logFile === undefined ? '' : `; its lines go to ${settings.logFile}`;
        process.stderr.write(
          `keepalive: ${who(report.name, report.childPid)} started; ` +
            `${who('keepalive', report.supervisorPid)} goes on in the background${where}\n`,
        );
      }
      return 0;
    case 'running':
      sayAlreadyRunning(report.pid);
      return 0;
    case 'failed':
      process.stderr.write(`keepalive: ${report.message}\n`);
      return report.status;
  }
}

/**
 * keepalive's lines go to stderr, or are appended to --log-file (in the background, stderr is that
 * file).
 */
export function logWriter(logFile: string | undefined, shared = false): (line: string) => void {
  if (logFile === undefined || isBackground()) return (line) => process.stderr.write(line);
  let fd: number;
  try {
    fd = openForAppend(logFile, LOG_FILE_MODE, { shared });
  } catch (error) {
    throw new InstanceError(`cannot open --log-file ${logFile}: ${logFileProblem(error)}`);
  }
  return (line) => {
    writeSync(fd, line);
  };
}

/** Why --log-file was refused, and how to say that another user's log file is meant. */
function logFileProblem(error: unknown): string {
  if ((error as NodeJS.ErrnoException).code !== 'EUNTRUSTED') return describeError(error);
  const message = (error as Error).message;
  return /owned by|can write/.test(message)
    ? `${message}; pass --log-file-shared if that is meant`
    : message;
}
