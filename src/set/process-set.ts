// The set's engine: several processes, each with its own supervisor (created when the process may
// start), started in dependency order once their dependencies' conditions hold, stopped in
// reverse order. What to do next is core/set-plan.ts's; this file carries it out.
import { EventEmitter } from 'node:events';
import type { SetEvents, SupervisorEvents } from '../core/events.js';
import { repeatedStop } from '../core/policy.js';
import {
  cycleGroup,
  FAILED_START_STATUS,
  nextDeadline,
  notStartedWords,
  plan,
  unmet,
  type Member,
  type SetSnapshot,
  type Step,
} from '../core/set-plan.js';
import type { SignalName } from '../core/signals.js';
import { endHelpers, openHost, type Host } from '../host.js';
import { resolveOptions, UsageError, type ResolvedOptions } from '../options.js';
import { Supervisor, type Environment, type SupervisorResult } from '../supervisor.js';
import type { Condition, ProcessOptions, ProcessView, SetOptions } from './types.js';
import { OPTIONS } from '../option-table.js';

/** Every event of a process's supervisor the set passes on ('end' is the set's own). */
const PASSED_ON = [
  'spawn',
  'exit',
  'stop',
  'escalate',
  'forward',
  'suspend',
  'ignore',
  'reap',
  'sweep',
  'swept',
  'memory',
  'over-memory',
  'hook',
  'main-pid',
  'leader-exit',
  'output',
  'ready',
  'reloading',
  'reloaded',
  'status',
  'stopping',
  'watchdog',
  'dropped',
  'hang',
  'health',
  'unhealthy',
] as const satisfies ReadonlyArray<keyof SupervisorEvents>;
// A new supervisor event must be passed on (or named here as the set's own).
true satisfies Exclude<keyof SupervisorEvents, (typeof PASSED_ON)[number] | 'end'> extends never
  ? true
  : never;

interface Entry extends Member {
  options: ResolvedOptions;
  reached: Set<Condition>;
  supervisor: Supervisor | undefined;
  /** Its last supervisor's view, once it ended. */
  last: ProcessView | undefined;
  /** Spawns over every supervisor it had (a restart with a dependency makes a new one). */
  spawns: number;
  result: SupervisorResult | undefined;
  failure: string | undefined;
}

export class ProcessSet extends EventEmitter<SetEvents> {
  readonly done: Promise<SupervisorResult>;
  readonly #world: Environment;
  readonly #entries: Entry[];
  readonly #handleSignals: boolean;
  readonly #subreaper: boolean;
  #host: Host | undefined;
  #stopping = false;
  #essential: string | undefined;
  #seq = 0;
  #ticking = false;
  #again = false;
  #deadline: NodeJS.Timeout | undefined;
  #finish: ((status: number) => void) | undefined;
  #finished = false;
  #failWith: ((error: unknown) => void) | undefined;

  constructor(options: SetOptions, world: Environment) {
    super();
    this.#world = world;
    this.#entries = options.processes.map((process) => entryOf(process, world.now()));
    if (options.output !== undefined)
      for (const entry of this.#entries) entry.options.output = options.output(entry.name);
    const names = new Set(this.#entries.map((entry) => entry.name));
    if (names.size !== this.#entries.length) throw new UsageError('two processes have one name');
    for (const entry of this.#entries) {
      for (const dependency of Object.keys(entry.dependsOn)) {
        if (!names.has(dependency))
          throw new UsageError(`${entry.name}: depends-on: "${dependency}" is not a process`);
      }
    }
    this.#handleSignals =
      options.handleSignals ?? this.#entries.some((entry) => entry.options.handleSignals);
    this.#subreaper = this.#entries.some((entry) => entry.options.subreaper);
    const finished = new Promise<number>((resolve, reject) => {
      this.#finish = resolve;
      this.#failWith = reject;
    });
    // Start on the next tick, so listeners attached right after superviseSet() see every spawn.
    this.done = new Promise((resolve) => process.nextTick(resolve)).then(() =>
      this.#supervise(finished),
    );
  }

  /**
   * Stops every process in reverse dependency order, each with its own stop signal and kill
   * timeout; then `done` settles. `received`: keepalive itself got `signal`. While stopping, a
   * second SIGINT kills everything now; another received signal is passed on.
   */
  stop(signal?: SignalName, received = false): void {
    if (this.#finished) return;
    if (this.#stopping) {
      const next = repeatedStop(signal ?? 'SIGTERM', received);
      if (next === 'forward' && signal !== undefined) this.forward(signal);
      if (next !== 'kill-now') return;
      for (const entry of this.#entries) {
        if (entry.supervisor === undefined) continue;
        // One not yet asked to stop is asked first: the second ask is what kills now.
        if (entry.phase === 'running') this.#stopOne(entry);
        entry.supervisor.stop('SIGINT', true);
      }
      return;
    }
    this.#stopping = true;
    const running = this.#entries.filter((entry) => entry.supervisor !== undefined);
    this.emit('set-stop', { signal, received, running: running.map((entry) => entry.name) });
    this.#tick();
  }

  /**
   * Restarts one process by name, and those that depend on it with restart: true (dependents
   * stopped first, started again once the condition holds); or, without a name, every process.
   * False for an unknown name, or while the set stops.
   */
  restart(name?: string): boolean {
    if (this.#stopping || this.#finished) return false;
    if (name === undefined) {
      for (const entry of this.#entries) this.#cycle(entry);
      this.#tick();
      return true;
    }
    const entry = this.#entries.find((candidate) => candidate.name === name);
    if (entry === undefined) return false;
    const group = cycleGroup(name, this.#entries);
    if (group.size === 1 && entry.supervisor !== undefined && entry.phase === 'running') {
      entry.supervisor.restart();
      return true;
    }
    for (const member of this.#entries) if (group.has(member.name)) this.#cycle(member);
    this.#tick();
    return true;
  }

  /** Passes a signal to every running process. */
  forward(signal: SignalName): void {
    for (const entry of this.#entries) entry.supervisor?.forward(signal);
  }

  processes(): ProcessView[] {
    return this.#entries.map((entry) => this.#view(entry));
  }

  #view(entry: Entry): ProcessView {
    const blank: ProcessView = {
      name: entry.name,
      state: 'waiting',
      pid: undefined,
      startedAt: undefined,
      restarts: Math.max(0, entry.spawns - 1),
      lastExit: entry.last?.lastExit,
      ready: false,
    };
    const { supervisor } = entry;
    if (supervisor !== undefined) {
      const view = supervisor.view();
      return { ...view, restarts: Math.max(0, entry.spawns - 1) };
    }
    switch (entry.phase) {
      case 'failed':
        return {
          ...blank,
          state: 'failed',
          lastExit: { words: entry.failure ?? 'not started', status: FAILED_START_STATUS },
        };
      case 'ended':
      case 'skipped':
        return { ...blank, state: 'ended' };
      default:
        return blank;
    }
  }

  async #supervise(finished: Promise<number>): Promise<SupervisorResult> {
    this.#host = await openHost(
      { handleSignals: this.#handleSignals, subreaper: this.#subreaper },
      {
        stop: (signal) => this.stop(signal, true),
        forward: (signal) => this.forward(signal),
        suspend: (signal, ignored) => {
          for (const entry of this.#entries) entry.supervisor?.suspendChild(signal, ignored);
        },
        ignore: (signal) => this.emit('ignore', { name: 'keepalive', pid: undefined, signal }),
        reap: (event) => this.emit('reap', event),
      },
    );
    try {
      const now = this.#world.now();
      for (const entry of this.#entries) {
        entry.waitingSince = now;
        this.#sayWaiting(entry);
      }
      this.#tick();
      const status = await finished;
      endHelpers();
      const decider = this.#decider(status);
      const result: SupervisorResult = {
        status,
        reason: decider?.result?.reason ?? (this.#stopping ? 'stopped' : 'success'),
        outcome: decider?.result?.outcome ?? { kind: 'exited', code: status },
      };
      this.emit('end', { status: result.status, reason: result.reason });
      return result;
    } catch (error) {
      for (const entry of this.#entries) entry.supervisor?.stop('SIGKILL');
      throw error;
    } finally {
      clearTimeout(this.#deadline);
      this.#host.close();
    }
  }

  /** The process whose status is the set's. */
  #decider(status: number): Entry | undefined {
    if (this.#essential !== undefined)
      return this.#entries.find((entry) => entry.name === this.#essential);
    return this.#entries
      .filter((entry) => entry.status === status && entry.endedSeq !== undefined)
      .sort((a, b) => (a.endedSeq ?? 0) - (b.endedSeq ?? 0))[0];
  }

  /** Asks the plan until nothing is left to do now; then waits for the next event or deadline. */
  #tick(): void {
    // Nothing starts before the host is open (a stop asked for before then is seen once it is).
    if (this.#finished || this.#host === undefined) return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    this.#ticking = true;
    try {
      for (let steps = this.#plan(); steps.length > 0 && !this.#finished; steps = this.#plan()) {
        for (const step of steps) this.#carryOut(step);
      }
    } finally {
      this.#ticking = false;
    }
    if (this.#again) {
      this.#again = false;
      this.#tick();
      return;
    }
    clearTimeout(this.#deadline);
    const at = nextDeadline(this.#snapshot());
    if (at !== undefined && !this.#finished)
      this.#deadline = setTimeout(() => this.#tick(), Math.max(0, at - this.#world.now()) + 1);
  }

  #snapshot(): SetSnapshot {
    return {
      stopping: this.#stopping,
      now: this.#world.now(),
      members: this.#entries,
      essential: this.#essential,
    };
  }

  #plan(): Step[] {
    return plan(this.#snapshot());
  }

  #carryOut(step: Step): void {
    const entry = this.#entries.find((candidate) => 'name' in step && candidate.name === step.name);
    switch (step.kind) {
      case 'start':
        if (entry) this.#start(entry);
        break;
      case 'fail': {
        if (!entry) break;
        entry.phase = 'failed';
        entry.status = FAILED_START_STATUS;
        entry.endedSeq = ++this.#seq;
        const event = {
          name: step.name,
          dependency: step.dependency,
          condition: step.condition,
          reason: step.reason,
          waitedMs: step.waitedMs,
          timeoutMs: entry.readyTimeoutMs,
          status: FAILED_START_STATUS,
        };
        entry.failure = notStartedWords(event);
        this.emit('not-started', event);
        break;
      }
      case 'stop':
        if (entry) this.#stopOne(entry);
        break;
      case 'skip':
        if (entry) entry.phase = 'skipped';
        break;
      case 'shut-down':
        this.#essential = step.name;
        this.#stopping = true;
        this.emit('essential-end', { name: step.name, status: step.status });
        break;
      case 'end':
        this.#finished = true;
        this.#finish?.(step.status);
        break;
    }
  }

  #stopOne(entry: Entry): void {
    entry.phase = 'stopping';
    entry.supervisor?.stop();
  }

  /** Stopped (after its dependents) and started again once its dependencies allow. */
  #cycle(entry: Entry): void {
    if (entry.phase === 'running' || entry.phase === 'stopping') entry.cycling = true;
    else if (entry.phase !== 'waiting') this.#wait(entry);
  }

  #wait(entry: Entry): void {
    entry.phase = 'waiting';
    entry.cycling = false;
    entry.waitingSince = this.#world.now();
    delete entry.status;
    delete entry.endedSeq;
    this.#sayWaiting(entry);
  }

  #sayWaiting(entry: Entry): void {
    const waitingFor = unmet(entry, new Map(this.#entries.map((each) => [each.name, each])));
    if (waitingFor.length === 0) return;
    this.emit('waiting', { name: entry.name, waitingFor, timeoutMs: entry.readyTimeoutMs });
  }

  #start(entry: Entry): void {
    const supervisor = new Supervisor(entry.options, this.#world, this.#host);
    entry.supervisor = supervisor;
    entry.phase = 'running';
    entry.reached.clear();
    for (const event of PASSED_ON) {
      supervisor.on(event, (...args: unknown[]) =>
        (this.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args),
      );
    }
    const reach = (condition: Condition): void => {
      if (entry.supervisor !== supervisor) return;
      entry.reached.add(condition);
      this.#tick();
    };
    supervisor.on('spawn', () => {
      entry.spawns += 1;
      // Without --wait-ready a process says nothing of its readiness: started is ready.
      if (!entry.options.waitReady) entry.reached.add('ready');
      reach('started');
    });
    supervisor.on('ready', () => reach('ready'));
    supervisor.on('health', (event) => {
      if (event.passed) reach('healthy');
    });
    supervisor.on('exit', (event) => {
      entry.reached.clear();
      const success =
        event.outcome.kind === 'exited' &&
        entry.options.successCodes.includes(event.outcome.code) &&
        event.next.action !== 'restart';
      if (success) entry.reached.add('completed');
      // A dependency restarting by itself takes its restart: true dependents with it.
      if (event.next.action === 'restart' && !this.#stopping && !entry.cycling) {
        for (const name of cycleGroup(entry.name, this.#entries)) {
          const member = this.#entries.find((candidate) => candidate.name === name);
          if (member !== undefined && member !== entry) this.#cycle(member);
        }
      }
      this.#tick();
    });
    supervisor.done.then(
      (result) => this.#ended(entry, supervisor, result),
      (error: unknown) => this.#broke(error),
    );
  }

  #ended(entry: Entry, supervisor: Supervisor, result: SupervisorResult): void {
    entry.last = supervisor.view();
    entry.supervisor = undefined;
    entry.result = result;
    if (entry.cycling && !this.#stopping) this.#wait(entry);
    else {
      entry.phase = 'ended';
      entry.cycling = false;
      entry.status = result.status;
      entry.endedSeq = ++this.#seq;
    }
    this.#tick();
  }

  /** A supervisor that threw (a listener, a failed write): nothing outlives the set. */
  #broke(error: unknown): void {
    for (const entry of this.#entries) entry.supervisor?.stop('SIGKILL');
    this.#finished = true;
    this.#failWith?.(error);
  }
}

function entryOf(process: ProcessOptions, now: number): Entry {
  const { dependsOn, essential, readyTimeout, ...single } = process;
  const options = resolveOptions(single);
  return {
    name: options.name,
    dependsOn: dependsOn ?? {},
    essential: essential ?? OPTIONS.essential.default,
    readyTimeoutMs: readyTimeout ?? OPTIONS.readyTimeout.default,
    phase: 'waiting',
    waitingSince: now,
    reached: new Set(),
    cycling: false,
    options,
    supervisor: undefined,
    last: undefined,
    spawns: 0,
    result: undefined,
    failure: undefined,
  };
}
