// The loop over runs, and the public API. Each run (src/run.ts) owns one child from spawn to the
// end of its sweep; the decisions (how it ended, what next, what a repeated stop means, what
// keepalive's place in the tree asks of it) come from src/core.
import { EventEmitter } from 'node:events';
import type { EndCause, Next, SupervisorEvents } from './core/events.js';
import {
  classify,
  describeOutcome,
  exitStatus,
  type CoreDumps,
  type Outcome,
} from './core/exit.js';
import { decide, NO_HISTORY, repeatedStop, type History } from './core/policy.js';
import type { SignalName } from './core/signals.js';
import type { ResolvedOptions } from './options.js';
import { startRun, type Run } from './run.js';
import { HookQueue } from './hooks/hooks.js';
import { childEnv } from './spawn/channel-env.js';
import type { NotifySocket } from './heart/notify-socket.js';
import { rawEnvironment } from './spawn/raw-bytes.js';
import type { OomCounter } from './exit/oom.js';
import { memberList } from './tree/tree.js';
import { endHelpers, openHost, type Host } from './host.js';
import { who } from './core/who.js';
import type { ProcessView } from './set/types.js';
import { FileOutput } from './output/file.js';

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

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly done: Promise<SupervisorResult>;
  readonly #options: ResolvedOptions;
  readonly #world: Environment;
  #stopSignal: SignalName | undefined;
  #run: Run | undefined;
  #restartRequested = false;
  #wake: (() => void) | undefined;
  #env: Record<string, string | Buffer | undefined> | undefined;
  /** keepalive's process-wide duties: its own when alone, the set's in a set. */
  #host: Host | undefined;
  #ended = false;
  /** One of a set's: other runs live beside this one's. */
  readonly #inSet: boolean;
  #pausing = false;
  #lastExit: ProcessView['lastExit'];
  #startedAt: number | undefined;
  #restarts = 0;
  /** The on-exit hook, when there is one: told of each exit beside the loop, never in its way. */
  readonly #hooks: HookQueue | undefined;
  /** --output FILE: the child's lines go to this file target, across its runs. */
  readonly #file: FileOutput | undefined;
  #notifySocket: NotifySocket | undefined;

  /** `host`: internal, a set's (which took the process-wide duties for all its processes). */
  constructor(options: ResolvedOptions, world: Environment, host?: Host) {
    super();
    this.#file = options.outputFile && this.#openOutput(options);
    if (this.#file) options = { ...options, output: this.#file };
    this.#options = options;
    this.#world = world;
    this.#host = host;
    this.#inSet = host !== undefined;
    const { onExit } = options;
    this.#hooks =
      onExit === undefined
        ? undefined
        : new HookQueue({
            hook: onExit,
            timeoutMs: options.onExitTimeout,
            name: options.name,
            env: options.env,
            cwd: options.cwd,
            account: options.account,
            now: () => world.now(),
            report: (event) => this.emit('hook', event),
          });
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
      const next = repeatedStop(signal, received);
      if (next === 'kill-now') {
        run?.killNow();
        this.#hooks?.kill();
      } else if (next === 'forward') this.forward(signal);
      return;
    }
    this.#stopSignal = signal;
    this.emit('stop', {
      name: this.#options.name,
      pid: run?.mainPid,
      signal,
      received,
      killTimeoutMs: this.#options.killTimeout,
    });
    this.#wake?.();
    // A run already stopping (a restart, a hang) had its own signal; the one received is the
    // child's too.
    if (run?.stop(signal) === false && received) this.forward(signal);
  }

  /** --output FILE's target (opened now: a refused FILE is said before anything starts). */
  #openOutput(options: ResolvedOptions): FileOutput {
    const name = options.name;
    return new FileOutput({
      ...(options.outputFile as NonNullable<ResolvedOptions['outputFile']>),
      tell: (news) =>
        this.emit(
          'output',
          news.kind === 'dropped'
            ? { name, ...news, total: this.#file?.dropped ?? news.lines }
            : news.kind === 'left-alone'
              ? { name, kind: news.kind, file: news.file, path: news.name, why: news.why }
              : { name, ...news },
        ),
    });
  }

  /** --output FILE's target, for `keepalive rotate` and the counts (undefined without it). */
  get outputFile(): FileOutput | undefined {
    return this.#file;
  }

  /** Restarts the child now, without counting it as a failure. */
  restart(): void {
    if (this.#stopSignal !== undefined || this.#restartRequested) return;
    this.#restartRequested = true;
    this.#wake?.();
    this.#run?.stop(this.#options.stopSignal);
  }

  /**
   * The running child is ready: it sent READY=1, or it was spawned when it is not one to say so
   * (--wait-ready off).
   */
  get ready(): boolean {
    const run = this.#run;
    if (run === undefined || this.#stopSignal !== undefined) return false;
    return !this.#options.waitReady || run.heart?.readyAt() !== undefined;
  }

  /** --wait-ready: a spawned child is starting, not running, until it sends READY=1. */
  get waitsForReady(): boolean {
    return this.#options.waitReady;
  }

  /** The child as `keepalive status` and the API show it. */
  view(): ProcessView {
    const run = this.#run;
    const state: ProcessView['state'] = this.#ended
      ? 'ended'
      : this.#stopSignal !== undefined || (run !== undefined && run.phase !== 'running')
        ? 'stopping'
        : run === undefined
          ? this.#pausing
            ? 'backing-off'
            : 'starting'
          : this.ready
            ? 'running'
            : 'starting';
    return {
      name: this.#options.name,
      state,
      pid: run?.mainPid,
      startedAt: run === undefined ? undefined : this.#startedAt,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
      ready: this.ready,
    };
  }

  /** Its one process, as a set lists each of its own (the guardian's one path for both). */
  processes(): ProcessView[] {
    return [this.view()];
  }

  /** The child's last STATUS= text, while it runs. */
  get lastStatus(): string | undefined {
    return this.#run?.status;
  }

  /** Passes a signal to the child's process group, while it runs and while it is being stopped. */
  forward(signal: SignalName): void {
    const run = this.#run;
    if (!run?.forward(signal)) return;
    if (signal === 'SIGCONT' && run.phase === 'running') run.heart?.resumed();
    this.emit('forward', { name: this.#options.name, pid: run.mainPid, signal });
  }

  async #supervise(): Promise<SupervisorResult> {
    // Alone, this supervisor takes keepalive's process-wide duties; in a set, the set took them.
    const own = this.#host === undefined;
    let closeHost = (): void => {};
    try {
      if (own) {
        const host = await openHost(
          { handleSignals: this.#options.handleSignals, subreaper: this.#options.subreaper },
          {
            stop: (signal) => this.stop(signal, true),
            forward: (signal) => this.forward(signal),
            suspend: (signal, ignored) => this.suspendChild(signal, ignored),
            ignore: (signal) =>
              this.emit('ignore', { name: this.#options.name, pid: this.#run?.pid, signal }),
            reap: (event) => this.emit('reap', event),
          },
        );
        this.#host = host;
        closeHost = () => host.close();
      }
      await this.#openNotifySocket();
      const result = await this.#loop();
      // The last exit's hook (a give-up's notice) is waited for, within its timeout.
      await this.#hooks?.waitForAll();
      await this.#file?.close();
      if (own) endHelpers();
      this.#ended = true;
      this.emit('end', { status: result.status, reason: result.reason });
      return result;
    } catch (error) {
      // Whatever broke (a listener that threw, a failed write), no child outlives its supervisor.
      this.#run?.killNow();
      this.#hooks?.kill();
      throw error;
    } finally {
      this.#ended = true;
      void this.#file?.close(0);
      this.#notifySocket?.close();
      closeHost();
    }
  }

  /** $NOTIFY_SOCKET, for programs written for systemd (Linux; none with --notify-access none). */
  async #openNotifySocket(): Promise<void> {
    if (process.platform !== 'linux' || this.#options.heart.notifyAccess === 'none') return;
    const { openNotifySocket } = await import('./heart/notify-socket.js');
    const { account } = this.#options;
    // The abstract socket takes datagrams from any user (the kernel's credentials say whose);
    // one on disk must let the child's user in.
    const socket = openNotifySocket({
      allow: account?.uid === undefined ? undefined : { uid: account.uid, gid: account.gid },
    });
    // Without it the child still has the pipe at KEEPALIVE_NOTIFY_FD.
    if ('address' in socket) this.#notifySocket = socket;
  }

  /**
   * Ctrl+Z: the child stops first, then keepalive (the host's part). The child's group sits in a
   * session of its own, which makes it an orphaned process group: the kernel discards SIGTSTP
   * there, so it gets SIGSTOP. `ignored`: keepalive is PID 1 and cannot stop itself.
   * @internal The host's route; a set calls it for each of its processes.
   */
  suspendChild(signal: SignalName, ignored: boolean): void {
    const run = this.#run;
    this.emit('suspend', { name: this.#options.name, pid: run?.mainPid, signal, ignored });
    if (!ignored) run?.forward('SIGSTOP');
  }

  async #loop(): Promise<SupervisorResult> {
    const options = this.#options;
    let history: History = NO_HISTORY;
    for (let firstRun = true; ; firstRun = false) {
      const startedAt = this.#world.now();
      // A restart asked for while no child ran is this fresh start.
      this.#restartRequested = false;
      const started = await startRun({
        options,
        env: this.#childEnv(history.restarts),
        restarts: history.restarts,
        now: this.#world.now,
        oomKills: this.#world.oomKills,
        emit: this.emit.bind(this),
        ownsOrphans: this.#host?.role.reapOrphans ?? false,
        sharesOrphans: this.#inSet,
        notifySocket: this.#notifySocket,
      });
      const run = started.started ? started.run : undefined;
      this.#run = run;
      this.#startedAt = Date.now();
      this.#restarts = history.restarts;
      // Asked for during the spawn (by a 'spawn' listener, say): a stop or a restart is this
      // child's.
      if (!run) this.#restartRequested = false;
      else if (this.#stopSignal !== undefined) run.stop(this.#stopSignal);
      else if (this.#restartRequested) run.stop(options.stopSignal);
      const end = run ? await run.exited : undefined;
      const facts = end?.facts ?? (started.started ? undefined : started.facts);
      if (facts === undefined) throw new Error('a run ended without facts');
      const outcome = classify(facts, {
        cause: end?.cause,
        oomKilled: end?.oomKilled ?? false,
        coreDumps: this.#world.coreDumps,
      });
      const status = exitStatus(outcome);
      const now = this.#world.now();
      const decision = decide(options.policy, history, {
        outcome,
        startedAt,
        ...(end?.readyAt === undefined ? {} : { readyAt: end.readyAt }),
        now,
        stopping: this.#stopSignal !== undefined,
        planned: this.#restartRequested,
        firstRun,
        random: this.#world.random(),
      });
      const next: Next =
        decision.action === 'restart'
          ? {
              action: 'restart',
              delayMs: decision.delayMs,
              restart: decision.restart,
              planned: decision.planned,
            }
          : decision.action === 'give-up'
            ? { action: 'give-up', failures: decision.failures, windowMs: decision.windowMs }
            : { action: 'end', reason: decision.reason };
      // What is left is named before the exit is told: a record never shows the child gone
      // without the processes still being swept (keepalive may be SIGKILLed between the two).
      const left = run ? this.#sweepStarts(run, next.action === 'restart' ? 'restart' : 'end') : 0;
      const exit = {
        name: options.name,
        pid: run?.mainPid,
        outcome,
        status,
        uptimeMs: now - startedAt,
        next,
      };
      this.#lastExit = {
        words: `${who(options.name, exit.pid)} ${describeOutcome(outcome)}`,
        status,
      };
      this.emit('exit', exit);
      this.#hooks?.push({
        event: exit,
        restarts: history.restarts,
        time: new Date().toISOString(),
        outputDropped: this.#file?.dropped,
      });
      if (run) await this.#sweepEnds(run, left);
      this.#run = undefined;
      if (decision.action === 'give-up') return { status, reason: 'give-up', outcome };
      if (decision.action === 'end') return { status, reason: decision.reason, outcome };
      history = decision.history;
      // The backoff counts from the exit: time spent sweeping is part of it.
      await this.#pause(decision.delayMs - (this.#world.now() - now));
      this.#restartRequested = false;
      if (this.#stopSignal !== undefined) return { status, reason: 'stopped', outcome };
    }
  }

  /** Says what the run left behind, if anything; returns how many processes. */
  #sweepStarts(run: Run, then: 'restart' | 'end'): number {
    const left = run.leftovers;
    if (left.length === 0) return 0;
    const pids = left.map((member) => member.pid);
    this.emit('sweep', {
      name: this.#options.name,
      pid: run.mainPid,
      pids,
      left: memberList(left),
      signal: run.signal,
      then,
      killInMs: run.killInMs,
    });
    return left.length;
  }

  /** Waits until nothing of the run is left; says what had to be SIGKILLed. */
  async #sweepEnds(run: Run, left: number): Promise<void> {
    const { killed } = await run.swept();
    if (left === 0 && killed.length === 0) return;
    this.emit('swept', {
      name: this.#options.name,
      pid: run.mainPid,
      killed: killed.map((member) => member.pid),
      killedList: memberList(killed),
    });
  }

  /**
   * One environment object, copied once and updated per start: spreading process.env costs more
   * than a fork's worth.
   */
  #childEnv(restarts: number): Record<string, string | Buffer | undefined> {
    this.#env ??= rawEnvironment({
      ...childEnv(this.#options.env, this.#options.heart, this.#notifySocket?.address),
      KEEPALIVE_PID: String(process.pid),
    });
    this.#env['KEEPALIVE_RESTARTS'] = String(restarts);
    return this.#env;
  }

  #pause(milliseconds: number): Promise<void> {
    if (milliseconds <= 0 || this.#stopSignal !== undefined || this.#restartRequested)
      return Promise.resolve();
    this.#pausing = true;
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#pausing = false;
        resolve();
      };
      const timer = setTimeout(wake, milliseconds);
      this.#wake = wake;
    });
  }
}
