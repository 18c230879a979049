// One keepalive per pidfile. claimInstance() takes FILE (or finds it taken), recovers from a
// predecessor killed with SIGKILL, and returns an Instance that keeps FILE.state current from the
// events of what it guards (a single command's Supervisor or a set's ProcessSet), serves
// `keepalive restart`, `stop` and `rotate` requests and, at the end, leaves nothing behind.
import type { EventEmitter } from 'node:events';
import { lstatSync, watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import { describeOutcome } from '../core/exit.js';
import {
  parsePid,
  recordProcesses,
  staleWords,
  type InstanceRecord,
  type LastExit,
  type ProcessIdentity,
  type ProcessRecord,
  type RotatedFile,
} from '../core/instance-state.js';
import type { SupervisorEvents } from '../core/events.js';
import type { ProcessView } from '../set/types.js';
import { treeSupervisors, type Leftover, type Leftovers } from '../core/leftover-trees.js';
import { stripControl } from '../core/shown-text.js';
import type { SignalName } from '../core/signals.js';
import type { Logger } from '../log.js';
import {
  checkInstanceFiles,
  describeError,
  InstanceError,
  instancePaths,
  removeOwnFiles,
  removeStaleFiles,
} from './instance-files.js';
import {
  tryLock,
  viewInstance,
  writePidfile,
  writeRecord,
  type InstancePaths,
  type Lock,
} from './instance-files.js';
import { findLeftovers, recordedName, stopTree } from './leftovers.js';
import { bootId, ownStartTime, readStat } from '../tree/proc.js';
import { readTrustedFile, removeIfOurs } from './safe-files.js';
import { STOP_SIGNALS } from '../tree/signals.js';
import { who } from '../core/who.js';

/** A chatty child may send STATUS= often: the state file follows at this pace, not each line. */
const STATUS_WRITE_MS = 500;

/**
 * What the guardian takes from what it guards, a single command's Supervisor or a set's
 * ProcessSet: their events (each names its process), and the three things `keepalive stop`,
 * `restart` and `status` ask of them.
 */
export interface Guarded {
  // Method syntax, so that a set's emitter (more events than a Supervisor's) fits too.
  on(event: keyof SupervisorEvents, listener: (...args: never[]) => void): unknown;
  once(event: keyof SupervisorEvents, listener: (...args: never[]) => void): unknown;
  off(event: keyof SupervisorEvents, listener: (...args: never[]) => void): unknown;
  stop(): void;
  /** One process by name, or every one. */
  restart(name?: string): unknown;
  processes(): ProcessView[];
  /** A single command with --wait-ready: it runs only once it said READY=1. */
  readonly waitsForReady?: boolean;
}

/** A guarded thing's events, with their types: the ones every Supervisor event carries. */
export const eventsOf = (guarded: Guarded): EventEmitter<SupervisorEvents> =>
  guarded as unknown as EventEmitter<SupervisorEvents>;

/**
 * Rotates the output files now: one process's (by name), or every one's (undefined). Says, per
 * process, its file (null: it writes none) and why it was not rotated, if it was not.
 */
export type Rotator = (name: string | undefined) => Promise<RotatedFile[]>;

/** How a process of a set is stopped, for a keepalive that finds it left running. */
export interface ProcessStop {
  name: string;
  stopSignal: SignalName;
  killTimeout: number;
}

export interface ClaimOptions {
  pidfile: string;
  name: string;
  stopSignal: SignalName;
  /** For a set: the longest its stop may take (the chain's kill timeouts, summed). */
  killTimeout: number;
  hookWaitMs?: number; // 2 × --on-exit-timeout with --on-exit
  /** A set's processes (-c, --procfile): FILE.state then records each. */
  processes?: readonly ProcessStop[];
  log: Logger;
}

export type Claim =
  | { kind: 'claimed'; instance: Instance }
  | { kind: 'running'; pid: number | undefined }
  /** A stop signal came while the claim was under way: nothing was started, nothing is left. */
  | { kind: 'stopped'; signal: SignalName };

export async function claimInstance(options: ClaimOptions): Promise<Claim> {
  const paths = instancePaths(options.pidfile);
  const early = catchStopSignals();
  let lock: Lock | undefined;
  let wrote = false;
  let keepRecord = false;
  try {
    checkInstanceFiles(paths);
    lock = tryLock(paths.lock);
    if (!lock) {
      early.remove();
      return { kind: 'running', pid: pidOf(paths) };
    }
    const { verdict } = viewInstance(paths);
    if (verdict.kind === 'running') {
      // Someone removed FILE.lock under a live supervisor, which still holds the removed one:
      // it owns FILE. The lock file just made is ours to remove.
      lock.release(true);
      early.remove();
      return { kind: 'running', pid: verdict.pid };
    }
    if (verdict.kind === 'unknown')
      throw new InstanceError(`cannot take ${paths.pidfile}: ${verdict.problem}`);

    const self = { pid: process.pid, startTime: ownStartTime() };
    const record = newRecord(paths, self, options);
    const old = verdict.kind === 'stale' ? verdict.record : undefined;
    const name = old ? stripControl(old.name) : options.name; // a record's text, shown in our log
    let found: Leftovers = { proven: [], unproven: [] };
    if (verdict.kind === 'stale') {
      const words = staleWords(verdict.reason, verdict.pid);
      options.log.line('warn', 'takeover', `taking over ${paths.pidfile}: ${words}`, {
        pidfile: paths.pidfile,
        stalePid: verdict.pid ?? null,
      });
      if (old) found = findLeftovers(old);
    }
    for (const unproven of found.unproven) {
      options.log.line(
        'warn',
        'leftover',
        `${who(old ? recordedName(old, unproven.pid, name) : name, unproven.pid)}, named in ` +
          `${paths.state}, does not carry KEEPALIVE_PID of ` +
          `the keepalive that started it: not proven to be keepalive's, left alone`,
        { pid: unproven.pid },
      );
    }
    // The leftovers go into our own record first, so that if we are killed too, the next one knows.
    wrote = true;
    writeRecord(
      paths,
      found.proven.length === 0 || !old
        ? record
        : {
            ...record,
            leftovers: found.proven.map(identity),
            predecessors: treeSupervisors(old),
            // A set's leftovers keep their own entries (name, stop signal, kill timeout): if we
            // are killed too, the next one stops each as its own process, not as the whole set.
            ...(record.processes && old.processes ? { processes: old.processes } : {}),
          },
    );
    writePidfile(paths, self.pid);
    removeStaleFiles(paths, verdict.kind === 'absent' ? undefined : verdict.pid, {
      keepRecord: true,
    });
    if (old && found.proven.length > 0) {
      keepRecord = true; // if they cannot be stopped, the next keepalive needs to know where to look
      await stopTree(old, found.proven, name, options);
      keepRecord = false;
    }
    writeRecord(paths, record);

    if (early.signal !== undefined) {
      options.log.line(
        'info',
        'stop',
        `${early.signal} received: stopping before ${options.name} was started`,
        { signal: early.signal },
      );
      removeOwnFiles(paths, self.pid);
      lock.release(true);
      early.remove();
      return { kind: 'stopped', signal: early.signal };
    }
    return {
      kind: 'claimed',
      instance: new Instance(paths, lock, record, options.log, early.remove),
    };
  } catch (error) {
    // A claim that failed leaves nothing of its own: a record of ours would name a child never
    // started.
    if (wrote && !keepRecord) removeOwnFiles(paths, process.pid);
    lock?.release(true);
    early.remove();
    if (error instanceof InstanceError) throw error;
    throw new InstanceError(`cannot take ${paths.pidfile}: ${describeError(error)}`);
  }
}

const identity = (leftover: Leftover): ProcessIdentity => ({
  pid: leftover.pid,
  startTime: leftover.startTime,
});

function newRecord(
  paths: InstancePaths,
  self: { pid: number; startTime: number },
  options: ClaimOptions,
): InstanceRecord {
  return {
    version: 1,
    pidfile: paths.pidfile,
    name: options.name,
    supervisor: self,
    bootId: bootId(),
    startedAt: new Date().toISOString(),
    phase: 'starting',
    child: null,
    leftovers: [],
    restarts: 0,
    lastExit: null,
    lastStatusText: '',
    stopSignal: options.stopSignal,
    killTimeoutMs: options.killTimeout,
    ...(options.hookWaitMs ? { hookWaitMs: options.hookWaitMs } : {}),
    ...(options.processes
      ? {
          processes: options.processes.map((entry): ProcessRecord => ({
            name: entry.name,
            state: 'waiting',
            ready: false,
            child: null,
            restarts: 0,
            lastExit: null,
            stopSignal: entry.stopSignal,
            killTimeoutMs: entry.killTimeout,
          })),
        }
      : {}),
  };
}

/** The pid named by a pidfile someone else holds; it may not be written yet. */
function pidOf(paths: InstancePaths): number | undefined {
  const { verdict } = viewInstance(paths);
  return verdict.kind === 'running' || verdict.kind === 'stale' || verdict.kind === 'unknown'
    ? verdict.pid
    : undefined;
}

/** Until the supervisor's own handlers are in place, a stop signal is noted rather than fatal. */
function catchStopSignals(): { readonly signal: SignalName | undefined; remove(): void } {
  let received: SignalName | undefined;
  const listeners = STOP_SIGNALS.map((signal) => [signal, () => (received ??= signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return {
    get signal() {
      return received;
    },
    remove() {
      for (const [signal, listener] of listeners) process.off(signal, listener);
    },
  };
}

/** What a process's events say of it beyond its view: its child's start time, its last outcome. */
type Facts = Pick<ProcessRecord, 'child' | 'lastExit' | 'sweeping'>;

/** A claimed pidfile, kept current while a supervisor runs. */
export class Instance {
  readonly paths: InstancePaths;
  readonly #lock: Lock;
  readonly #log: Logger;
  readonly #removeEarlyListeners: () => void;
  #record: InstanceRecord;
  #watcher: FSWatcher | undefined;
  #guarded: Guarded | undefined;
  #rotator: Rotator | undefined;
  /** Rotations one after another: a second request waits for the first's renames. */
  #rotating: Promise<void> = Promise.resolve();
  /** A set's processes, by name, as their events tell them. */
  readonly #facts = new Map<string, Facts>();
  #statusWrite: NodeJS.Timeout | undefined;
  #refresh: NodeJS.Immediate | undefined;
  #writeFailed = false;
  #released = false;
  readonly #refused = new Set<string>();

  constructor(
    paths: InstancePaths,
    lock: Lock,
    record: InstanceRecord,
    log: Logger,
    removeEarlyListeners: () => void,
  ) {
    this.paths = paths;
    this.#lock = lock;
    this.#record = record;
    this.#log = log;
    this.#removeEarlyListeners = removeEarlyListeners;
  }

  /** A set's record (-c, --procfile) lists its processes; a single command's is as it always was. */
  get #isSet(): boolean {
    return this.#record.processes !== undefined;
  }

  /**
   * Follows the events of what it guards into FILE.state, and starts serving restart and stop
   * requests (and with `rotator`, rotate requests). One path for both: each event names its
   * process; a single command's is the record's top-level fields, a set's are its `processes`.
   */
  attach(source: Guarded, rotator?: Rotator): void {
    this.#guarded = source;
    this.#rotator = rotator;
    const guarded = eventsOf(source);
    // --wait-ready: a single command is starting until READY=1 (the 'ready' event below).
    const spawned = source.waitsForReady === true && !this.#isSet ? 'starting' : 'running';
    guarded.on('spawn', (event) =>
      this.#change(
        event.name,
        { child: childRecord(event.pid) },
        { phase: spawned, restarts: event.restarts },
      ),
    );
    guarded.on('exit', (event) => {
      const lastExit: LastExit = {
        pid: event.pid ?? null,
        outcome: event.outcome,
        status: event.status,
        words: `${who(event.name, event.pid)} ${describeOutcome(event.outcome)}`,
        at: new Date().toISOString(),
      };
      // A set goes on while one of its processes is between two runs.
      const phase = event.next.action === 'restart' ? 'restarting' : 'stopping';
      this.#change(event.name, { child: null, lastExit }, this.#isSet ? {} : { phase });
    });
    guarded.on('stop', (event) => this.#change(event.name, {}, { phase: 'stopping' }));
    // What the child says of itself while it runs (keepalive's own stop has the last word), and
    // with MAINPID= the process keepalive now waits for: a pid in the record must be ours.
    const says =
      (phase: 'ready' | 'reloading' | 'stopping') =>
      ({ name }: { name: string }): void => {
        if (this.#isSet) this.#change(name, {}, {});
        else if (this.#record.child && this.#record.phase !== 'stopping') this.#update({ phase });
      };
    for (const [event, phase] of [
      ['ready', 'ready'],
      ['reloaded', 'ready'],
      ['reloading', 'reloading'],
      ['stopping', 'stopping'],
    ] as const)
      guarded.on(event, says(phase));
    // A set's views change with these too (healthy, given up).
    for (const event of ['health', 'unhealthy', 'end'] as const)
      guarded.on(event, () => this.#isSet && this.#change(undefined, {}, {}));
    // And with a set's own events, which a single command's Supervisor never emits.
    const setEvents = source as unknown as EventEmitter;
    for (const event of ['waiting', 'not-started', 'essential-end'])
      setEvents.on(event, () => this.#isSet && this.#change(undefined, {}, {}));
    setEvents.on(
      'set-stop',
      () => this.#isSet && this.#change(undefined, {}, { phase: 'stopping' }),
    );
    guarded.on('main-pid', (event) => {
      if (!event.accepted) return;
      const startedAt = this.#factsOf(event.name)?.child?.startedAt;
      this.#change(event.name, { child: childRecord(event.mainPid, startedAt) }, {});
    });
    // While a run's leftovers are swept the child is null: the record names them instead.
    guarded.on('sweep', (event) => {
      const known = this.#factsOf(event.name)?.sweeping ?? [];
      const added = event.pids.flatMap((pid) => {
        const stat = readStat(pid);
        return stat && stat.state !== 'Z' && !known.some((seen) => seen.pid === pid)
          ? [{ pid, startTime: stat.startTime }]
          : [];
      });
      this.#change(event.name, { sweeping: [...known, ...added] }, {});
    });
    guarded.on('swept', (event) => this.#change(event.name, { sweeping: [] }, {}));
    guarded.on('status', (event) => !this.#isSet && this.setStatusText(event.text));
    guarded.on(
      'memory',
      ({ bytes, limitBytes }) =>
        !this.#isSet &&
        this.#updateSoon({ memory: { bytes, limitBytes, at: new Date().toISOString() } }),
    );
    // The supervisor's own handlers are installed by the time anything else runs.
    setImmediate(this.#removeEarlyListeners);
    this.#watchRestartRequests();
  }

  #factsOf(name: string): Facts | undefined {
    if (!this.#isSet) return this.#record;
    return this.#facts.get(name);
  }

  /**
   * A process's change: a single command's goes into the top-level fields with `top`; a set's into
   * its entry, with the set's own view of every process (state, ready, restarts) read again.
   */
  #change(name: string | undefined, facts: Partial<Facts>, top: Partial<InstanceRecord>): void {
    if (!this.#isSet) {
      this.#update({ ...facts, ...top });
      return;
    }
    if (name !== undefined) this.#facts.set(name, { ...this.#blankFacts(name), ...facts });
    // The set's own phase: starting until its first spawn, then running, then stopping.
    const phase =
      top.phase === 'stopping' || this.#record.phase === 'stopping' ? 'stopping' : top.phase;
    this.#update({
      ...(phase ? { phase } : {}),
      processes: this.#processRecords(),
    });
    // The set's own view moves on once its listeners have run (spawned, then ready): read again.
    this.#refresh ??= setImmediate(() => {
      this.#refresh = undefined;
      this.#update({ processes: this.#processRecords() });
    });
  }

  #blankFacts(name: string): Facts {
    return this.#facts.get(name) ?? { child: null, lastExit: null };
  }

  /** Every process of the set: what the set says of it now, with what its events told. */
  #processRecords(): ProcessRecord[] {
    const before = this.#record.processes ?? [];
    const views = this.#guarded?.processes() ?? [];
    return before.map((entry) => {
      const view = views.find((candidate) => candidate.name === entry.name);
      const facts = this.#blankFacts(entry.name);
      let child = facts.child;
      // The set's word on which pid runs, proven by /proc with its start time like any other.
      if (view?.pid !== undefined && child?.pid !== view.pid) {
        const startedAt = view.startedAt === undefined ? undefined : iso(view.startedAt);
        child = childRecord(view.pid, startedAt) ?? child;
      }
      const { sweeping: _was, ...rest } = entry;
      return {
        ...rest,
        state: view?.state ?? entry.state,
        ready: view?.ready ?? entry.ready,
        restarts: view?.restarts ?? entry.restarts,
        child,
        lastExit: facts.lastExit,
        ...(facts.sweeping?.length ? { sweeping: facts.sweeping } : {}),
      };
    });
  }

  /**
   * The child's latest STATUS= text, for `keepalive status`: written at most every STATUS_WRITE_MS.
   */
  setStatusText(text: string): void {
    if (text !== this.#record.lastStatusText) this.#updateSoon({ lastStatusText: text });
  }

  /** A change written with the next write, within STATUS_WRITE_MS: STATUS= texts, memory checks. */
  #updateSoon(change: Partial<InstanceRecord>): void {
    this.#record = { ...this.#record, ...change };
    this.#statusWrite ??= setTimeout(() => this.#update({}), STATUS_WRITE_MS).unref();
  }

  /** Removes FILE, FILE.state and FILE.lock (each only if still ours) and drops the lock. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    clearTimeout(this.#statusWrite);
    clearImmediate(this.#refresh);
    this.#watcher?.close();
    this.#removeEarlyListeners();
    removeIfOurs(this.paths.restart, (stats) => stats.isFile());
    removeIfOurs(this.paths.stop, (stats) => stats.isFile());
    removeIfOurs(this.paths.rotate, (stats) => stats.isFile());
    removeOwnFiles(this.paths, process.pid);
    this.#lock.release(true);
  }

  #update(change: Partial<InstanceRecord>): void {
    if (this.#released) return;
    clearTimeout(this.#statusWrite); // this write carries the latest text too
    this.#statusWrite = undefined;
    this.#record = { ...this.#record, ...change };
    try {
      writeRecord(this.paths, this.#record);
    } catch (error) {
      if (this.#writeFailed) return;
      this.#writeFailed = true; // said once; `status` shows older facts until a write works again
      this.#log.line('warn', 'state', `cannot write ${this.paths.state}: ${describeError(error)}`, {
        path: this.paths.state,
      });
    }
  }

  #watchRestartRequests(): void {
    const restart = basename(this.paths.restart);
    const stop = basename(this.paths.stop);
    const rotate = basename(this.paths.rotate);
    try {
      this.#watcher = watch(this.paths.directory, { persistent: false }, (_event, file) => {
        if (file === null || file === restart) this.#serveRequest(this.paths.restart);
        if (file === null || file === stop) this.#serveRequest(this.paths.stop);
        if (file === null || file === rotate) this.#serveRequest(this.paths.rotate);
      });
      this.#watcher.on('error', () => this.#watcher?.close());
    } catch (error) {
      this.#log.line(
        'warn',
        'restart',
        `cannot watch ${this.paths.directory} for \`keepalive restart\`, \`stop\` and ` +
          `\`rotate\`: ` +
          `${describeError(error)}`,
        {},
      );
    }
    // Ones made before the watch began.
    this.#serveRequest(this.paths.restart);
    this.#serveRequest(this.paths.stop);
    this.#serveRequest(this.paths.rotate);
  }

  /** A request counts only if this user (or root) made it, for this supervisor. */
  #serveRequest(path: string): void {
    let text: string | undefined;
    try {
      text = readTrustedFile(path, 1024);
    } catch (error) {
      // Anyone else could not have stopped the child either: said once per file, and left alone.
      const key = `${path}:${attempt(() => lstatSync(path).ino)}`;
      if (!this.#refused.has(key)) {
        this.#refused.add(key);
        this.#log.line('warn', 'request', `ignoring ${path}: ${describeError(error)}`, { path });
      }
      return;
    }
    if (text === undefined) return;
    removeIfOurs(path, (stats) => stats.isFile());
    const request = parseRequest(text);
    if (request?.pid !== process.pid) return;
    if (path === this.paths.stop) {
      this.#log.line('info', 'stop', 'stop requested by `keepalive stop`', {
        pidfile: this.paths.pidfile,
      });
      // With the stop signal keepalive was given (--stop-signal), as for any stop it decides on
      // itself.
      this.#guarded?.stop();
      return;
    }
    if (path === this.paths.rotate) {
      this.#serveRotate(request);
      return;
    }
    // Before the first start there is nothing to restart: the child is about to start anyway.
    if (this.#record.phase === 'starting') return;
    const names = recordProcesses(this.#record).map((entry) => entry.name);
    if (request.name !== undefined && !names.includes(request.name)) {
      // `keepalive restart` refuses it first; only a hand-made request gets here.
      this.#log.line(
        'warn',
        'restart',
        `ignoring a restart of "${stripControl(request.name)}": ` +
          `not a process (${names.join(', ')})`,
        { pidfile: this.paths.pidfile },
      );
      return;
    }
    const what = request.name === undefined ? '' : ` of ${request.name}`;
    this.#log.line('info', 'restart', `restart${what} requested by \`keepalive restart\``, {
      pidfile: this.paths.pidfile,
      ...(request.name === undefined ? {} : { process: request.name }),
    });
    // A single command's one process is the whole of it.
    this.#guarded?.restart(this.#isSet ? request.name : undefined);
  }

  /** Rotates now (output files only: SIGHUP stays the child's), and records what was done. */
  #serveRotate(request: { name?: string; id?: string }): void {
    const names = recordProcesses(this.#record).map((entry) => entry.name);
    const { name } = request;
    if (name !== undefined && !names.includes(name)) {
      // `keepalive rotate` refuses it first; only a hand-made request gets here.
      this.#log.line(
        'warn',
        'rotate',
        `ignoring a rotate of "${stripControl(name)}": not a process (${names.join(', ')})`,
        { pidfile: this.paths.pidfile },
      );
      return;
    }
    const what = name === undefined ? '' : ` of ${name}`;
    this.#log.line('info', 'rotate', `rotate${what} requested by \`keepalive rotate\``, {
      pidfile: this.paths.pidfile,
      ...(name === undefined ? {} : { process: name }),
    });
    const rotator = this.#rotator;
    const asked = name === undefined ? names : [name];
    const rotate = async (): Promise<RotatedFile[]> => {
      if (rotator === undefined) return asked.map((entry) => ({ name: entry, file: null }));
      // A single command's one process is the whole of it.
      return rotator(this.#isSet ? name : undefined);
    };
    this.#rotating = this.#rotating.then(async () => {
      let files: RotatedFile[];
      try {
        files = await rotate();
      } catch (error) {
        files = asked.map((entry) => ({ name: entry, file: null, problem: describeError(error) }));
      }
      this.#update({
        rotation: { id: request.id ?? '', at: new Date().toISOString(), files },
      });
    });
  }
}

const iso = (epochMs: number): string => new Date(epochMs).toISOString();

/**
 * A request file: the pid of the keepalive it is for, and for `keepalive restart NAME` the name
 * on a second line (a keepalive from before sets reads no pid in that text, and ignores it).
 * `keepalive rotate` adds a third line, `id=` and its own id, which FILE.state's `rotation` gives
 * back once served (the second line is then empty for every process).
 */
export function parseRequest(
  text: string,
): { pid: number; name?: string; id?: string } | undefined {
  const [first = '', second, third, ...rest] = text.split('\n');
  const pid = parsePid(first);
  if (pid === undefined || rest.some((line) => line !== '')) return undefined;
  const id = third === undefined || third === '' ? undefined : REQUEST_ID.exec(third)?.[1];
  if (third !== undefined && third !== '' && id === undefined) return undefined;
  return {
    pid,
    ...(second === undefined || second === '' ? {} : { name: second }),
    ...(id === undefined ? {} : { id }),
  };
}

/** A rotate request's third line, `id=` and a few plain characters, given back in FILE.state. */
const REQUEST_ID = /^id=([A-Za-z0-9_-]{1,64})$/;

function childRecord(pid: number, startedAt = new Date().toISOString()): InstanceRecord['child'] {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime, startedAt } : null;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
