// The loop: start the child, wait for its end, ask the policy what next, carry it out.
// Decisions come from src/core; this file only sequences the shell units and reports events.
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { classify, exitStatus, type CoreDumps, type ExitFacts, type KillCause, type Outcome } from './core/exit.js';
import { decide, NO_HISTORY, type EndReason, type History } from './core/policy.js';
import type { SignalName } from './core/signals.js';
import type { EndCause, SupervisorEvents } from './core/events.js';
import type { ResolvedOptions } from './options.js';
import { childEnv, childStdio, startHeart, type Heart } from './shell/heart.js';
import { signalGroup } from './shell/process-group.js';
import type { OomCounter } from './shell/oom.js';
import type { Reaped, Reaper } from './shell/reaper.js';
import { routeSignals, suspendSelf } from './shell/signals.js';
import { spawnProcess } from './shell/spawn.js';
import { sweepGroup, terminate, type Termination } from './shell/terminate.js';

export interface SupervisorResult {
  status: number;
  reason: EndCause;
  /** The last run's outcome. */
  outcome: Outcome;
}

/** What the supervisor takes from the world, so tests and embedders can pin it down. */
export interface Environment {
  now(): number;
  random(): number;
  coreDumps: CoreDumps;
  /** The OOM killer's count for keepalive's memory cgroup, when the kernel offers one. */
  oomKills: OomCounter;
}

interface Run {
  pid: number;
  ended: Promise<ExitFacts>;
  /** The OOM kill count when the run started, to tell an OOM kill from any other SIGKILL. */
  oomKillsAtStart: number | undefined;
  termination?: Termination;
  /** Monotonic ms when the stop signal was sent, for the group sweep's deadline. */
  stopSentAt?: number;
  heart?: Heart;
  /** Set when keepalive ended the child because it was hung or unhealthy. */
  cause?: KillCause;
}

interface RunEnd {
  facts: ExitFacts;
  pid: number | undefined;
  cause?: KillCause | undefined;
  readyAt?: number | undefined;
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly done: Promise<SupervisorResult>;
  readonly #options: ResolvedOptions;
  readonly #world: Environment;
  #stopSignal: SignalName | undefined;
  #run: Run | undefined;
  #restartRequested = false;
  #wake: (() => void) | undefined;
  readonly #sweeps = new Set<Promise<void>>();
  /** Process groups whose leader has exited while members may remain (see #sweep). */
  readonly #sweptGroups = new Set<number>();
  #env: NodeJS.ProcessEnv | undefined;

  constructor(options: ResolvedOptions, world: Environment) {
    super();
    this.#options = options;
    this.#world = world;
    // Start on the next tick, so listeners attached right after supervise() see the first spawn.
    this.done = new Promise((resolve) => process.nextTick(resolve)).then(() => this.#supervise());
  }

  /**
   * Stops the child (signal, then SIGKILL after the kill timeout) and ends without restarting.
   * `received`: keepalive itself got this signal (the CLI's handlers), rather than being asked.
   */
  stop(signal: SignalName = this.#options.stopSignal, received = false): void {
    const run = this.#run;
    if (this.#stopSignal !== undefined) {
      // A second Ctrl+C means "now": for the child, and for what it left in its group.
      if (signal === 'SIGINT') {
        run?.termination?.killNow();
        for (const pgid of this.#sweptGroups) signalGroup(pgid, 'SIGKILL');
      }
      return;
    }
    this.#stopSignal = signal;
    this.emit('stop', { name: this.#options.name, pid: run?.pid, signal, received, killTimeoutMs: this.#options.killTimeout });
    this.#wake?.();
    if (run) this.#terminate(run, signal);
  }

  /** Restarts the child now, without counting it as a failure. */
  restart(): void {
    const run = this.#run;
    if (this.#stopSignal !== undefined || this.#restartRequested) return;
    this.#restartRequested = true;
    this.#wake?.();
    if (run) this.#terminate(run, this.#options.stopSignal);
  }

  /** The child's last STATUS= text, while it runs. */
  get lastStatus(): string | undefined {
    return this.#run?.heart?.status;
  }

  /** Passes a signal to the child's process group. */
  forward(signal: SignalName): void {
    const run = this.#run;
    if (!run || this.#stopSignal !== undefined) return;
    signalGroup(run.pid, signal);
    if (signal === 'SIGCONT') run.heart?.resumed();
    this.emit('forward', { name: this.#options.name, pid: run.pid, signal });
  }

  async #supervise(): Promise<SupervisorResult> {
    const unroute = this.#options.handleSignals
      ? routeSignals({
          stop: (signal) => this.stop(signal, true),
          forward: (signal) => this.forward(signal),
          suspend: (signal) => this.#suspend(signal),
          ignore: (signal) => this.emit('ignore', { name: this.#options.name, pid: this.#run?.pid, signal }),
        })
      : () => {};
    let reaper: Reaper | undefined;
    try {
      reaper = await this.#startReaper();
      const result = await this.#loop();
      await Promise.all(this.#sweeps);
      this.emit('end', { status: result.status, reason: result.reason });
      return result;
    } catch (error) {
      // Whatever broke (a listener that threw, a failed write), no child outlives its supervisor.
      this.#killAll();
      throw error;
    } finally {
      reaper?.stop();
      unroute();
    }
  }

  /** SIGKILL to the running child's group and to every group still being swept. */
  #killAll(): void {
    if (this.#run) signalGroup(this.#run.pid, 'SIGKILL');
    for (const pgid of this.#sweptGroups) signalGroup(pgid, 'SIGKILL');
  }

  /** As PID 1 (or asked to be a subreaper), orphans become keepalive's to reap. */
  async #startReaper(): Promise<Reaper | undefined> {
    if (!this.#options.subreaper && process.pid !== 1) return undefined;
    const { startReaper } = await import('./shell/reaper.js');
    return startReaper({
      subreaper: this.#options.subreaper && process.pid !== 1,
      onReap: (reaped: Reaped) => this.emit('reap', reaped),
    });
  }

  /**
   * Ctrl+Z: the child stops first, then keepalive. The child's group sits in a session of its own,
   * which makes it an orphaned process group: the kernel discards SIGTSTP there, so it gets SIGSTOP.
   */
  #suspend(signal: SignalName): void {
    const run = this.#run;
    // PID 1 cannot stop itself (the kernel ignores the SIGSTOP), so nothing would resume the child.
    const ignored = process.pid === 1;
    this.emit('suspend', { name: this.#options.name, pid: run?.pid, signal, ignored });
    if (ignored) return;
    if (run) signalGroup(run.pid, 'SIGSTOP');
    suspendSelf();
  }

  async #loop(): Promise<SupervisorResult> {
    const options = this.#options;
    let history: History = NO_HISTORY;
    for (let firstRun = true; ; firstRun = false) {
      const startedAt = this.#world.now();
      const { facts, pid, cause, readyAt } = await this.#start(history.restarts);
      const outcome = classify(facts, { cause, coreDumps: this.#world.coreDumps });
      const status = exitStatus(outcome);
      const now = this.#world.now();
      const base = { name: options.name, pid, outcome, status, uptimeMs: now - startedAt };

      if (this.#restartRequested && this.#stopSignal === undefined) {
        this.#restartRequested = false;
        history = { ...history, restarts: history.restarts + 1 };
        this.emit('exit', { ...base, next: { action: 'restart', delayMs: 0, restart: history.restarts, planned: true } });
        continue;
      }
      const decision = decide(options.policy, history, {
        outcome,
        startedAt,
        ...(readyAt === undefined ? {} : { readyAt }),
        now,
        stopping: this.#stopSignal !== undefined,
        firstRun,
        random: this.#world.random(),
      });
      if (decision.action === 'give-up') {
        this.emit('exit', { ...base, next: { action: 'give-up', failures: decision.failures, windowMs: decision.windowMs } });
        return { status, reason: 'give-up', outcome };
      }
      if (decision.action === 'end') {
        this.emit('exit', { ...base, next: { action: 'end', reason: decision.reason } });
        return { status, reason: decision.reason, outcome };
      }
      this.emit('exit', {
        ...base,
        next: { action: 'restart', delayMs: decision.delayMs, restart: decision.restart, planned: false },
      });
      history = decision.history;
      await this.#pause(decision.delayMs);
      this.#restartRequested = false;
      if (this.#stopSignal !== undefined) return { status, reason: 'stopped', outcome };
    }
  }

  /** One run of the child, from spawn to its end (or its failure to start). */
  async #start(restarts: number): Promise<RunEnd> {
    const options = this.#options;
    const spawned = await spawnProcess({
      command: options.command,
      args: options.args,
      cwd: options.cwd,
      env: this.#childEnv(restarts),
      stdio: childStdio(options.heart),
      ownGroup: true,
    });
    if (!spawned.started) return { facts: spawned.facts, pid: undefined };

    const run: Run = { pid: spawned.pid, ended: spawned.ended, oomKillsAtStart: this.#world.oomKills() };
    this.#run = run;
    // A restart asked for while no child ran is this fresh start.
    this.#restartRequested = false;
    this.emit('spawn', { name: options.name, pid: run.pid, restarts, command: options.command, args: options.args });
    run.heart = this.#startHeart(run, spawned.child.stdio[options.heart.notifyFd] as Readable | null);
    // A stop that arrived while the child was being spawned applies to it now.
    if (this.#stopSignal !== undefined) this.#terminate(run, this.#stopSignal);
    const facts = await run.ended;
    await run.heart.close();
    this.#run = undefined;
    this.#sweep(run);
    return { facts, pid: run.pid, cause: run.cause ?? this.#oomCause(run, facts), readyAt: run.heart.readyAt };
  }

  /** A SIGKILL while the cgroup's OOM kill count rose was the OOM killer's. */
  #oomCause(run: Run, facts: ExitFacts): KillCause | undefined {
    if (!facts.started || facts.signal !== 'SIGKILL' || run.oomKillsAtStart === undefined) return undefined;
    const now = this.#world.oomKills();
    return now !== undefined && now > run.oomKillsAtStart ? { cause: 'oom' } : undefined;
  }

  /** One environment object, copied once and updated per start: spreading process.env costs more than a fork's worth. */
  #childEnv(restarts: number): NodeJS.ProcessEnv {
    this.#env ??= { ...childEnv(this.#options.env, this.#options.heart), KEEPALIVE_PID: String(process.pid) };
    this.#env['KEEPALIVE_RESTARTS'] = String(restarts);
    return this.#env;
  }

  /** The watchdog and health check for this run; they ask for the kill, #killFor carries it out. */
  #startHeart(run: Run, channel: Readable | null): Heart {
    const options = this.#options;
    return startHeart({
      who: { name: options.name, pid: run.pid },
      channel,
      heart: options.heart,
      killTimeoutMs: options.killTimeout,
      stopSignal: options.stopSignal,
      env: options.env,
      cwd: options.cwd,
      now: () => this.#world.now(),
      emit: this.emit.bind(this),
      kill: (cause) => this.#killFor(run, cause),
    });
  }

  /** Hung or unhealthy: the cause's signal, SIGKILL after the kill timeout, then the restart policy. */
  #killFor(run: Run, cause: KillCause): void {
    if (run.termination || cause.cause === 'oom') return;
    run.cause = cause;
    this.#terminate(run, cause.signal);
    // A frozen child (kill -STOP, Ctrl+Z) acts on a catchable signal only once it runs again.
    if (cause.signal !== 'SIGKILL') signalGroup(run.pid, 'SIGCONT');
  }

  #terminate(run: Run, signal: SignalName): void {
    if (run.termination) return;
    run.heart?.disarm();
    run.stopSentAt = this.#world.now();
    run.termination = terminate({
      pid: run.pid,
      signal,
      timeoutMs: this.#options.killTimeout,
      ended: run.ended,
      onEscalate: () => {
        this.emit('escalate', {
          name: this.#options.name,
          pid: run.pid,
          sent: signal,
          afterMs: this.#world.now() - (run.stopSentAt ?? 0),
        });
      },
    });
  }

  /** Whatever the child left in its process group goes too, within what is left of the kill timeout. */
  #sweep(run: Run): void {
    const spent = run.stopSentAt === undefined ? 0 : this.#world.now() - run.stopSentAt;
    const sweep = sweepGroup(run.pid, this.#stopSignal ?? this.#options.stopSignal, this.#options.killTimeout - spent);
    this.#sweeps.add(sweep);
    this.#sweptGroups.add(run.pid);
    void sweep.finally(() => {
      this.#sweeps.delete(sweep);
      this.#sweptGroups.delete(run.pid);
    });
  }

  #pause(milliseconds: number): Promise<void> {
    if (milliseconds <= 0 || this.#stopSignal !== undefined || this.#restartRequested) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, milliseconds);
      this.#wake = wake;
    });
  }
}
