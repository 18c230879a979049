// The spawn gateway: every process keepalive starts goes through here, so a failed exec and an exit
// arrive as one kind of fact. On Linux it is posix_spawn through koffi, and keepalive waits for the
// child itself (children.ts): the exit facts are the kernel's wait status, real-time signals and
// core dumps included, and the arguments and environment reach the child byte for byte. Elsewhere
// (Windows, through cross-spawn) it is Node's child_process.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { factsFromWaitStatus, type ExitFacts } from '../core/exit.js';
import type { SignalName } from '../core/signals.js';
import { prepareToWait, trackLibuvChild, untrackLibuvChild, waitForChild } from './children.js';
import {
  canChdir,
  closeFd,
  cString,
  cStrings,
  makeBlocking,
  nativeSpawn,
  pipe,
  type CStrings,
} from '../native/native.js';
import { nativePipe, streamPipe, type ChildPipe } from '../heart/pipe-reader.js';

/**
 * What the child's fd is: keepalive's own, /dev/null, a pipe keepalive reads (the notify channel),
 * or a pipe keepalive reads as a Node stream (the child's output: high volume, paused when full).
 */
export type StdioKind = 'inherit' | 'ignore' | 'pipe' | 'stream';

export interface SpawnRequest {
  command: string;
  args: ReadonlyArray<string | Buffer>;
  cwd?: string | undefined;
  /** Values given as Buffers are passed as those bytes. */
  env: Readonly<Record<string, string | Buffer | undefined>>;
  /** 'inherit' (the default), 'ignore', or per fd. */
  stdio?: 'inherit' | 'ignore' | ReadonlyArray<StdioKind>;
  /** Start in a new session and process group, so signals can reach the whole tree. */
  ownGroup: boolean;
  /** Called with the pid as soon as it is started, before any other spawn (a cgroup's adopt). */
  started?: ((pid: number) => void) | undefined;
}

export type SpawnResult =
  | {
      started: true;
      pid: number;
      pipes: ReadonlyMap<number, ChildPipe>;
      streams: ReadonlyMap<number, Readable>;
      ended: Promise<ExitFacts>;
    }
  | { started: false; facts: ExitFacts; message: string };

/**
 * posix_spawn where keepalive is tested for real; child_process (with cross-spawn on Windows)
 * elsewhere.
 */
const NATIVE = process.platform === 'linux' && process.env['KEEPALIVE_SPAWN'] !== 'node';

export function spawnProcess(request: SpawnRequest): Promise<SpawnResult> {
  // An older glibc cannot change directory in posix_spawn: such a start goes through Node.
  const native = NATIVE && (request.cwd === undefined || canChdir());
  return Promise.resolve(native ? spawnNative(request) : spawnNode(request));
}

const ENOENT = 2;
const ENOEXEC = 8;
const EACCES = 13;
const ENOTDIR = 20;
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  8: 'ENOEXEC',
  13: 'EACCES',
  20: 'ENOTDIR',
  21: 'EISDIR',
  36: 'ENAMETOOLONG',
  40: 'ELOOP',
  26: 'ETXTBSY',
};

function notStarted(
  command: string,
  errno: string,
  message = `spawn ${command} ${errno}`,
): SpawnResult {
  return { started: false, facts: { started: false, errno, command }, message };
}

function spawnNative(request: SpawnRequest): SpawnResult {
  const stdio = stdioList(request.stdio);
  const fds = new Map<number, number | 'null'>();
  const pipes = new Map<number, ChildPipe>();
  const streams = new Map<number, Readable>();
  const parentEnds: number[] = [];
  for (const [fd, kind] of stdio.entries()) {
    // dup2 onto itself clears close-on-exec, which Node sets on the stdio it wraps (libuv does the
    // same).
    if (kind === 'inherit') {
      fds.set(fd, fd);
      if (fd <= 2) makeBlocking(fd);
    }
    if (kind === 'ignore') fds.set(fd, 'null');
    if (kind !== 'pipe' && kind !== 'stream') continue;
    const [read, write] = pipe();
    fds.set(fd, write);
    parentEnds.push(write);
    // libuv reads a stream's pipe through epoll, and stops reading while it is paused.
    if (kind === 'stream')
      streams.set(fd, new Socket({ fd: read, readable: true, writable: false }));
    else pipes.set(fd, nativePipe(read));
  }
  const envp = envpOf(request.env);
  prepareToWait();
  const argv = argvOf(request.command, request.args);
  let result: { pid: number } | { errno: number } = { errno: ENOENT };
  let remembered: { errno: number; path: string } | undefined;
  for (const path of candidates(request.command, request.env['PATH'], request.cwd)) {
    result = nativeSpawn({ path, argv, envp, cwd: request.cwd, fds, newSession: request.ownGroup });
    // A file without #! runs under sh, as execvp (and so Node's spawn) would have it.
    if (!('pid' in result) && result.errno === ENOEXEC)
      result = nativeSpawn({
        path: '/bin/sh',
        argv: cStrings(['sh', path, ...request.args]),
        envp,
        cwd: request.cwd,
        fds,
        newSession: request.ownGroup,
      });
    if ('pid' in result) break;
    // As execvp does: a file that is not there means "look further"; one that cannot run is
    // remembered.
    if (result.errno === ENOENT && isFile(path, request.cwd))
      remembered ??= { errno: result.errno, path };
    else if (result.errno !== ENOENT && result.errno !== ENOTDIR)
      remembered ??= { errno: result.errno, path };
    if (result.errno !== ENOENT && result.errno !== ENOTDIR && result.errno !== EACCES) break;
  }
  for (const fd of parentEnds) closeFd(fd);
  if (!('pid' in result)) {
    for (const pipe of pipes.values()) pipe.close();
    for (const stream of streams.values()) stream.destroy();
    const errno = (remembered ?? result).errno;
    const facts: ExitFacts = {
      started: false,
      errno: ERRNO_NAMES[errno] ?? `errno ${errno}`,
      command: request.command,
    };
    // ENOENT for a file that is there: the interpreter its #! line names is missing.
    const interpreter =
      remembered?.errno === ENOENT ? shebang(remembered.path, request.cwd) : undefined;
    if (interpreter !== undefined) facts.missingInterpreter = interpreter;
    return { started: false, facts, message: `spawn ${request.command} ${facts.errno}` };
  }
  request.started?.(result.pid);
  const ended = waitForChild(result.pid).then(factsFromWaitStatus);
  return { started: true, pid: result.pid, pipes, streams, ended };
}

/**
 * The environment as posix_spawn takes it, kept from the last spawn: a restart passes the same
 * keys with one value changed (KEEPALIVE_RESTARTS), so only that entry is made again, and no array.
 */
let lastEnv:
  | { keys: string[]; values: Array<string | Buffer>; envp: Array<Buffer | string | null> }
  | undefined;
function envpOf(env: SpawnRequest['env']): CStrings {
  const last = lastEnv;
  if (last) {
    let index = 0;
    let same = true;
    for (const key in env) {
      const value = env[key];
      if (value === undefined || !Object.hasOwn(env, key)) continue;
      // Another key here, or one past the last spawn's (undefined there): the cache is stale.
      if (last.keys[index] !== key) {
        same = false;
        break;
      }
      if (last.values[index] !== value) {
        last.values[index] = value;
        last.envp[index] = envEntry(key, value);
      }
      index++;
    }
    if (same && index === last.keys.length) return last.envp;
  }
  const keys: string[] = [];
  const values: Array<string | Buffer> = [];
  for (const key in env) {
    const value = env[key];
    if (value === undefined || !Object.hasOwn(env, key)) continue;
    keys.push(key);
    values.push(value);
  }
  lastEnv = {
    keys,
    values,
    envp: cStrings(keys.map((key, at) => envEntry(key, values[at] as string | Buffer))),
  };
  return lastEnv.envp;
}

function envEntry(key: string, value: string | Buffer): string | Buffer {
  return typeof value === 'string'
    ? `${key}=${value}`
    : cString(Buffer.concat([Buffer.from(`${key}=`), value]));
}

/** argv as posix_spawn takes it, kept while the command and its arguments are the same. */
let lastArgv: { command: string; args: Array<string | Buffer>; argv: CStrings } | undefined;
function argvOf(command: string, args: SpawnRequest['args']): CStrings {
  const last = lastArgv;
  if (
    last?.command === command &&
    last.args.length === args.length &&
    args.every((arg, at) => arg === last.args[at])
  )
    return last.argv;
  lastArgv = { command, args: [...args], argv: cStrings([command, ...args]) };
  return lastArgv.argv;
}

/**
 * Where execvp would look: the command itself if it names a path, else each PATH entry (the child's
 * PATH).
 */
function candidates(
  command: string,
  path: string | Buffer | undefined,
  cwd: string | undefined,
): string[] {
  if (command.includes('/')) return [command];
  if (command === '') return [];
  const places = placesOf(
    command,
    typeof path === 'string' ? path : '/usr/local/bin:/usr/bin:/bin',
  );
  // Only files worth an exec attempt: each failed attempt costs a vfork. Looked at on every start,
  // as execvp would: a program put earlier in PATH meanwhile is the one started.
  const found = places.filter((place) => isFile(place, cwd));
  return found.length > 0 ? found : places.slice(0, 1);
}

/** Each PATH entry joined with the command, made once: a restart looks in the same places. */
let searched: { command: string; path: string; places: string[] } | undefined;
function placesOf(command: string, path: string): string[] {
  if (searched?.command !== command || searched.path !== path) {
    searched = {
      command,
      path,
      places: path.split(delimiter).map((dir) => join(dir === '' ? '.' : dir, command)),
    };
  }
  return searched.places;
}

function isFile(path: string, cwd: string | undefined): boolean {
  try {
    // A PATH entry without the command is the usual answer: no error (and its stack) for it.
    return (
      statSync(path.startsWith('/') || cwd === undefined ? path : join(cwd, path), {
        throwIfNoEntry: false,
      })?.isFile() === true
    );
  } catch {
    return false;
  }
}

/** The interpreter a script's #! line names, if it has one. */
function shebang(path: string, cwd: string | undefined): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path.startsWith('/') || cwd === undefined ? path : join(cwd, path), 'r');
    const head = Buffer.alloc(256);
    const line =
      head
        .subarray(0, readSync(fd, head, 0, head.length, 0))
        .toString('latin1')
        .split('\n')[0] ?? '';
    return line.startsWith('#!') ? line.slice(2).trim().split(/\s+/)[0] || undefined : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function stdioList(stdio: SpawnRequest['stdio']): ReadonlyArray<StdioKind> {
  if (stdio === undefined || stdio === 'inherit') return ['inherit', 'inherit', 'inherit'];
  if (stdio === 'ignore') return ['ignore', 'ignore', 'ignore'];
  return stdio;
}

function nodeStdio(stdio: SpawnRequest['stdio']): StdioOptions {
  if (stdio === undefined || typeof stdio === 'string') return stdio ?? 'inherit';
  return stdio.map((kind) => (kind === 'stream' ? 'pipe' : kind));
}

// cross-spawn finds commands the way a POSIX shell would on Windows (PATHEXT, shebangs); on POSIX
// it passes straight through to Node's spawn, so it is loaded only where it does something.
let spawnCommand: typeof spawn | undefined;
function nodeSpawner(): typeof spawn {
  spawnCommand ??=
    process.platform === 'win32'
      ? (createRequire(import.meta.url)('cross-spawn') as typeof spawn)
      : spawn;
  return spawnCommand;
}

function spawnNode(request: SpawnRequest): Promise<SpawnResult> {
  let child: ChildProcess;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(request.env))
    if (value !== undefined) env[key] = value.toString();
  try {
    child = nodeSpawner()(request.command, request.args.map(String), {
      cwd: request.cwd,
      env,
      stdio: nodeStdio(request.stdio),
      detached: request.ownGroup,
    });
  } catch (error) {
    // Node throws some exec failures at once (ENOTDIR, ENAMETOOLONG, E2BIG) instead of emitting
    // them.
    const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    return Promise.resolve(notStarted(request.command, code, (error as Error).message));
  }
  const pid = child.pid;
  if (pid !== undefined) trackLibuvChild(pid);
  if (pid !== undefined) request.started?.(pid);
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (pid !== undefined) untrackLibuvChild(pid);
      resolve(notStarted(request.command, error.code ?? 'EUNKNOWN', error.message));
    };
    child.once('error', onError);
    child.once('spawn', () => {
      child.off('error', onError);
      // After a successful spawn, 'error' only reports failed kill() calls: ignore them (ESRCH
      // races).
      child.on('error', () => {});
      const ended = new Promise<ExitFacts>((resolveEnd) => {
        child.once('exit', (code, signal) => {
          untrackLibuvChild(child.pid as number);
          resolveEnd({ started: true, code, signal: signal as SignalName | null });
        });
      });
      const pipes = new Map<number, ChildPipe>();
      const streams = new Map<number, Readable>();
      const kinds = stdioList(request.stdio);
      child.stdio.forEach((stream, fd) => {
        if (!stream || !('read' in stream)) return;
        if (kinds[fd] === 'stream') streams.set(fd, stream as Readable);
        else pipes.set(fd, streamPipe(stream as Readable));
      });
      resolve({ started: true, pid: child.pid as number, pipes, streams, ended });
    });
  });
}
