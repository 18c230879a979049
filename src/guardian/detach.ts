// --detach, like `erl -detached`: keepalive starts itself again in a new session, with its output
// in --log-file (or nowhere), and the foreground command waits only for that copy's word on how the
// start went, over an IPC channel the background closes as soon as it has spoken.
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { isSea } from 'node:sea';
import { exitMessage } from '../log-words.js';
import { eventsOf, type Guarded } from './instance.js';
import { openForAppend } from './safe-files.js';
import { who } from '../core/who.js';

const MARKER = 'KEEPALIVE_DETACHED';
export const LOG_FILE_MODE = 0o600;

export type StartReport =
  | { kind: 'started'; supervisorPid: number; childPid: number; name: string }
  | { kind: 'running'; pid: number | null }
  | { kind: 'failed'; status: number; message: string };

// Read once and taken out of the environment, so the child does not inherit it.
const background = process.env[MARKER] === '1' && typeof process.send === 'function';
delete process.env[MARKER];

/** True in the copy of keepalive that --detach started. */
export function isBackground(): boolean {
  return background;
}

/**
 * What starts keepalive again, before its own words: node, its options and the script; or, in the
 * single executable, the executable alone (its argv[1] is itself, and running it with that
 * again would start a copy that starts a copy, without end).
 */
export function ownCommand(): string[] {
  return isSea() ? [] : [...process.execArgv, process.argv[1] as string];
}

/** Starts the background copy with the same arguments and waits for its report. */
export function startInBackground(options: {
  argv: readonly string[];
  logFile: string | undefined;
  logFileShared: boolean;
  timeoutMs: number;
}): Promise<StartReport> {
  const output =
    options.logFile === undefined
      ? 'ignore'
      : openForAppend(options.logFile, LOG_FILE_MODE, { shared: options.logFileShared });
  const child = spawn(process.execPath, [...ownCommand(), ...options.argv], {
    detached: true,
    stdio: ['ignore', output, output, 'ipc'],
    env: { ...process.env, [MARKER]: '1' },
  });
  if (typeof output === 'number') closeSync(output);
  const seeLog = options.logFile === undefined ? '' : `; see ${options.logFile}`;
  let timer: NodeJS.Timeout | undefined;
  return new Promise<StartReport>((resolve) => {
    timer = setTimeout(() => {
      resolve({
        kind: 'failed',
        status: 1,
        message:
          `no word from the background ${who('keepalive', child.pid)} after ` +
          `${Math.round(options.timeoutMs / 1000)}s; it may still be starting${seeLog}`,
      });
    }, options.timeoutMs);
    child.once('message', (report) => resolve(report as StartReport));
    child.on('error', (error) =>
      resolve({
        kind: 'failed',
        status: 1,
        message: `cannot start keepalive in the background: ${error.message}`,
      }),
    );
    // A report comes before the channel closes, so only both the exit and the close mean silence.
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((done) =>
      child.once('exit', (code, signal) => done([code, signal])),
    );
    const closed = new Promise<void>((done) => child.once('disconnect', () => done()));
    void Promise.all([exited, closed]).then(([[code, signal]]) => {
      const status = code ?? 1;
      resolve({
        kind: 'failed',
        status,
        message:
          `the background keepalive ended (${signal ?? `status ${status}`}) before it ` +
          `said whether the command started${seeLog}`,
      });
    });
  }).finally(() => {
    clearTimeout(timer);
    if (child.connected) child.disconnect();
    child.unref();
  });
}

let told: Promise<void> | undefined;

/** In the background copy: says once how the start went, then closes the channel. */
export function tellForeground(report: StartReport): void {
  if (!background || told || !process.connected) return;
  told = new Promise((resolve) => {
    process.send?.(report, () => {
      if (process.connected) process.disconnect();
      resolve();
    });
  });
}

/** Settles once the report (if any) has left, so that exiting cannot cut it off. */
export function foregroundTold(): Promise<void> {
  return told ?? Promise.resolve();
}

/**
 * In the background copy: the first spawn is success (a set's first process); an end before it
 * (or a failed start) is not.
 */
export function reportFirstStart(guarded: Guarded): void {
  if (!background) return;
  const supervisor = eventsOf(guarded);
  const onSpawn = (event: { pid: number; name: string }): void => {
    tellForeground({
      kind: 'started',
      supervisorPid: process.pid,
      childPid: event.pid,
      name: event.name,
    });
  };
  supervisor.once('spawn', onSpawn);
  supervisor.once('exit', (event) => {
    if (event.pid === undefined)
      tellForeground({ kind: 'failed', status: event.status, message: exitMessage(event) });
  });
  supervisor.once('end', (event) => {
    supervisor.off('spawn', onSpawn);
    tellForeground({
      kind: 'failed',
      status: event.status,
      message: `keepalive ended (status ${event.status}) before the command started`,
    });
  });
}
