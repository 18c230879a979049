// The spawn gateway: every process keepalive starts goes through here, so its pid is known
// (the reaper leaves these alone) and a failed exec and an exit arrive as one kind of fact.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ExitFacts } from '../core/exit.js';
import type { SignalName } from '../core/signals.js';

export interface SpawnRequest {
  command: string;
  args: readonly string[];
  cwd?: string | undefined;
  env: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  /** Start in a new session and process group, so signals can reach the whole tree. */
  ownGroup: boolean;
}

export type SpawnResult =
  | { started: true; pid: number; child: ChildProcess; ended: Promise<ExitFacts> }
  | { started: false; facts: ExitFacts; message: string };

// cross-spawn finds commands the way a POSIX shell would on Windows (PATHEXT, shebangs); on POSIX
// it passes straight through to Node's spawn, so it is loaded only where it does something.
// createRequire, not a top-level await: require('keepalive') must work from CommonJS.
const spawnCommand: typeof spawn = process.platform === 'win32' ? (createRequire(import.meta.url)('cross-spawn') as typeof spawn) : spawn;

const spawnedPids = new Set<number>();

/** Pids started by keepalive and not yet reaped by Node: the reaper must never wait for these. */
export function isOwnPid(pid: number): boolean {
  return spawnedPids.has(pid);
}

export function spawnProcess(request: SpawnRequest): Promise<SpawnResult> {
  const notStarted = (error: NodeJS.ErrnoException): SpawnResult => ({
    started: false,
    facts: { started: false, errno: error.code ?? 'EUNKNOWN', command: request.command },
    message: error.message,
  });
  let child: ChildProcess;
  try {
    child = spawnCommand(request.command, [...request.args], {
      cwd: request.cwd,
      env: request.env,
      stdio: request.stdio ?? 'inherit',
      detached: request.ownGroup,
    });
  } catch (error) {
    // Node throws some exec failures at once (ENOTDIR, ENAMETOOLONG, E2BIG) instead of emitting them.
    return Promise.resolve(notStarted(error as NodeJS.ErrnoException));
  }
  const pid = child.pid;
  if (pid !== undefined) spawnedPids.add(pid);
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (pid !== undefined) spawnedPids.delete(pid);
      resolve(notStarted(error));
    };
    child.once('error', onError);
    child.once('spawn', () => {
      child.off('error', onError);
      // After a successful spawn, 'error' only reports failed kill() calls: ignore them (ESRCH races).
      child.on('error', () => {});
      const ended = new Promise<ExitFacts>((resolveEnd) => {
        child.once('exit', (code, signal) => {
          spawnedPids.delete(child.pid as number);
          resolveEnd({ started: true, code, signal: signal as SignalName | null });
        });
      });
      resolve({ started: true, pid: child.pid as number, child, ended });
    });
  });
}
