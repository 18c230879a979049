// One run of the child: spawn, heart, stop, sweep, and what ended it. Its phase follows the pure
// table in core/run-phase.ts; this file carries out the actions. A run is over only when nothing
// of its process tree is left, so the next run never meets the last one's processes.
import type { ExitFacts, KillCause } from './core/exit.js';
import type { RunContext, RunExit, Swept } from './run-context.js';
import { step, type Phase, type RunInput } from './core/run-phase.js';
import type { SignalName } from './core/signals.js';
import { collectNow } from './spawn/children.js';
import { childStdio } from './spawn/channel-env.js';
import { startHeart, type Heart } from './heart/heart.js';
import type { ChildPipe } from './heart/pipe-reader.js';
import type { Readable } from 'node:stream';
import { forwardToMain, MainProcess } from './heart/main-process.js';
import { held, newLeaf, type Leaf } from './tree/cgroups.js';
import { LeaderGroup } from './tree/process-group.js';
import { spawnProcess } from './spawn/spawn.js';
import { resumeStopped, runMembers, signalMember, TREE_KNOWN, type Member } from './tree/tree.js';
import { watchTree } from './tree/memory.js';

/** How often a sweep looks again while something is left (rare, and short). */
const SWEEP_POLL_MS = 10;
/**
 * After SIGKILL, how long to wait for the kernel to end what was killed before saying so and moving
 * on.
 */
const KILLED_WAIT_MS = 2_000;
/**
 * Loop turns the exit's verdict waits for the child's output: what its pipes hold is read and
 * written in them (a crashing child's last line comes before keepalive's line about the crash).
 */
const OUTPUT_TURNS = 3;
/**
 * Once nothing of the run's tree is left, how long its end waits for the output's: only a process
 * that left the tree (a daemon without cgroups or subreaper) can hold the pipes open longer; its
 * lines are still read after that, without keeping keepalive alive.
 */
const OUTPUT_END_MS = 1_000;

export type Started = { started: true; run: Run } | { started: false; facts: ExitFacts };

export async function startRun(context: RunContext): Promise<Started> {
  const { options } = context;
  const leaf = newLeaf('run');
  const spawned = await spawnProcess({
    command: options.command,
    args: options.args,
    cwd: options.cwd,
    env: context.env,
    stdio: childStdio(options.heart, options.output !== undefined),
    ownGroup: true,
    started: (pid) => leaf?.adopt(pid),
  });
  if (!spawned.started) {
    leaf?.retire();
    return { started: false, facts: spawned.facts };
  }
  const run = new Run(context, spawned.pid, spawned.ended, held(leaf));
  context.emit('spawn', {
    name: options.name,
    pid: spawned.pid,
    restarts: context.restarts,
    command: options.command,
    args: options.args.map(String),
  });
  run.attachHeart(spawned.pipes.get(options.heart.notifyFd) ?? null);
  run.followOutput(spawned.streams);
  run.watchMemory();
  return { started: true, run };
}

export class Run {
  readonly pid: number;
  /** Settles when the leader has exited (and the heart has read its last words). */
  readonly exited: Promise<RunExit>;
  #phase: Phase = 'starting';
  readonly #context: RunContext;
  #heart: Heart | undefined;
  #cause: KillCause | undefined;
  #signal: SignalName;
  #stopSentAt: number | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #deadlineAt: number | undefined;
  #killed = false;
  /** Who got the stop signal already (pid -> start time): each process gets it once. */
  readonly #signalled = new Map<number, number>();
  #groupSignalled = false;
  #left: Member[] = [];
  #killedMembers: Member[] = [];
  #sweepDone: (() => void) | undefined;
  readonly #swept: Promise<void>;
  readonly #oomKillsAtStart: number | undefined;
  #unwatchMemory: (() => void) | undefined;
  readonly #main: MainProcess;
  /** The leader's group: signalled only while its number is the run's (see LeaderGroup). */
  readonly #group: LeaderGroup;
  /** The run's cgroup, where keepalive has them: every process of the run, whatever it did. */
  readonly #leaf: Leaf | undefined;
  /** The output target's reading of the child's stdout and stderr, if it has one. */
  #output: Promise<void> | undefined;
  #outputEnded = false;
  #outputStreams: Readable[] = [];

  constructor(context: RunContext, pid: number, ended: Promise<ExitFacts>, leaf?: Leaf) {
    this.#context = context;
    this.#leaf = leaf;
    this.pid = pid;
    this.#group = new LeaderGroup(pid, ended);
    this.#signal = context.options.stopSignal;
    this.#oomKillsAtStart = context.oomKills();
    this.#swept = new Promise((resolve) => (this.#sweepDone = resolve));
    this.#main = new MainProcess({
      name: context.options.name,
      leader: pid,
      leaderEnded: ended,
      ownsOrphans: context.ownsOrphans,
      emit: context.emit,
      readFinalMessages: async () => this.#heart?.readFinalMessages(),
    });
    this.exited = this.#main.ended.then((facts) => this.#leaderExited(facts));
    this.#input('spawned');
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** The child's last STATUS= text, while it runs. */
  get status(): string | undefined {
    return this.#heart?.status();
  }

  /** The leader, or the process it handed over to with MAINPID=: whose exit ends the run. */
  get mainPid(): number {
    return this.#main.pid;
  }

  /**
   * A forwarded signal (SIGHUP, SIGSTOP ...): the leader's group, and the main process's own, if
   * the phase passes it on (see core/run-phase.ts). False if it was not sent.
   */
  forward(signal: SignalName): boolean {
    // Its main process has ended: what is left is judging the end, and gets nothing more.
    if (this.#main.ending) return false;
    return this.#input('forward', signal);
  }

  get heart(): Heart | undefined {
    return this.#heart;
  }

  attachHeart(channel: ChildPipe | null): void {
    const { options } = this.#context;
    this.#heart = startHeart({
      who: { name: options.name, pid: this.pid },
      channel,
      socket: this.#context.notifySocket,
      orphans: this.#context.ownsOrphans,
      heart: options.heart,
      killTimeout: options.killTimeout,
      stopSignal: options.stopSignal,
      env: options.env,
      cwd: options.cwd,
      now: this.#context.now,
      emit: this.#context.emit,
      kill: (cause) => this.stop(cause.signal, cause),
      mainPid: (pid) => this.#main.claim(pid, (taken) => this.#heart?.handOver(taken)),
    });
  }

  /** The child's stdout and stderr to the output target, when the options have one. */
  followOutput(streams: ReadonlyMap<number, Readable>): void {
    const { output, name } = this.#context.options;
    const stdout = streams.get(1);
    const stderr = streams.get(2);
    if (output === undefined || stdout === undefined || stderr === undefined) return;
    this.#outputStreams = [stdout, stderr];
    const ended = (): void => {
      this.#outputEnded = true;
    };
    this.#output = output.follow({ name, pid: this.pid }, { stdout, stderr }).then(ended, ended);
  }

  /** Waits a few loop turns at most for the output: what the pipes hold now gets written. */
  async #outputCaughtUp(): Promise<void> {
    const output = this.#output;
    if (output === undefined || this.#outputEnded) return;
    await new Promise<void>((resolve) => {
      void output.then(resolve);
      let turn = 0;
      const next = (): void => {
        if (this.#outputEnded || ++turn >= OUTPUT_TURNS) resolve();
        else setImmediate(next);
      };
      setImmediate(next);
    });
  }

  /**
   * The output's end, once the tree is empty: OUTPUT_END_MS at most, then its reading goes on
   * without holding the run or keepalive's exit.
   */
  async #outputEnd(): Promise<void> {
    const output = this.#output;
    if (output === undefined || this.#outputEnded) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, OUTPUT_END_MS)));
    await Promise.race([output, late]);
    clearTimeout(timer);
    if (this.#outputEnded) return;
    for (const stream of this.#outputStreams) (stream as Partial<{ unref(): void }>).unref?.();
  }

  /**
   * --max-memory: the whole tree's memory every --memory-interval; over the limit, the run is
   * stopped.
   */
  watchMemory(): void {
    const {
      maxMemory: limitBytes,
      memoryInterval: intervalMs,
      stopSignal: signal,
      name,
    } = this.#context.options;
    const pids = (): number[] => this.#members().map((member) => member.pid);
    const stop = (cause: KillCause): boolean => this.stop(signal, cause);
    this.#unwatchMemory = watchTree({
      name,
      pid: this.pid,
      limitBytes,
      intervalMs,
      signal,
      pids,
      stop,
      emit: this.#context.emit,
    });
  }

  /**
   * Ends the run: `signal` to the tree, SIGKILL after the kill timeout. The first reason wins:
   * false if the run was no longer running.
   */
  stop(signal: SignalName, cause?: KillCause): boolean {
    if (this.#phase !== 'running') return false;
    this.#signal = signal;
    this.#cause = cause;
    this.#heart?.disarm();
    this.#input('stop');
    // A stopped child (Ctrl+Z, kill -STOP) acts on a catchable signal only once it runs again.
    if (signal !== 'SIGKILL') resumeStopped(this.#group, this.#members());
    return true;
  }

  /** A second Ctrl+C: SIGKILL to everything of the run, now. */
  killNow(): void {
    this.#input('kill-now');
  }

  /**
   * Settles when nothing of the run's tree is left; says what was left and what had to be killed.
   */
  async swept(): Promise<Swept> {
    await this.#swept;
    await this.#outputEnd();
    return { left: this.#left, killed: this.#killedMembers };
  }

  /** The signal this run is being ended with. */
  get signal(): SignalName {
    return this.#signal;
  }

  /** Until SIGKILL follows, if it is armed. */
  get killInMs(): number {
    return this.#deadlineAt === undefined || this.#killed
      ? 0
      : Math.max(0, this.#deadlineAt - this.#context.now());
  }

  /** What of the tree is still there (for the log line that says why a restart waits). */
  get leftovers(): readonly Member[] {
    return this.#phase === 'sweeping' ? this.#left : [];
  }

  async #leaderExited(facts: ExitFacts & { started: true }): Promise<RunExit> {
    this.#unwatchMemory?.();
    this.#input('exited');
    await this.#heart?.close();
    await this.#outputCaughtUp();
    // Only a SIGKILL can be the OOM killer's: any other end saves the read.
    const now = facts.signal === 'SIGKILL' ? this.#context.oomKills() : undefined;
    const oomKilled =
      this.#oomKillsAtStart !== undefined && now !== undefined && now > this.#oomKillsAtStart;
    return { facts, cause: this.#cause, oomKilled, readyAt: this.#heart?.readyAt() };
  }

  /** Moves the run by the table; `received`: the signal a 'forward' passes on. False: no action. */
  #input(input: RunInput, received?: SignalName): boolean {
    const { phase, actions } = step(this.#phase, input);
    this.#phase = phase;
    for (const action of actions) {
      switch (action) {
        case 'forward':
          if (received) forwardToMain(this.#group, this.#main.member, received);
          break;
        case 'signal':
          // Entering the sweep: one look at the tree serves the signal, the sweep and the log line.
          if (this.#phase === 'sweeping') this.#left = this.#members();
          this.#signalTree(
            this.#killed ? 'SIGKILL' : this.#signal,
            this.#phase === 'sweeping' ? this.#left : undefined,
          );
          break;
        case 'arm':
          this.#arm();
          break;
        case 'kill':
          this.#kill();
          break;
        case 'sweep':
          void this.#sweep(this.#left);
          break;
        case 'finish':
          clearTimeout(this.#deadline);
          this.#deadline = undefined;
          this.#leaf?.retire();
          this.#sweepDone?.();
          break;
      }
    }
    return actions.length > 0;
  }

  /**
   * The stop signal to the leader's group (one kill() reaches every member at once, forks
   * included), then to each process of the tree outside it (a `setsid` job); each one once.
   */
  #signalTree(signal: SignalName, members?: readonly Member[]): void {
    if (!this.#groupSignalled && this.#phase !== 'sweeping') {
      this.#groupSignalled = true;
      this.#stopSentAt = this.#context.now();
      // The look comes first: after the signal, a dying parent's children move to keepalive while
      // the walk runs, and one read between the two lists would be missed (and signalled twice).
      const looked = TREE_KNOWN ? this.#members() : [];
      this.#group.signal(signal);
      for (const member of looked) {
        if (member.pgid !== this.pid) signalMember(member, signal);
        this.#signalled.set(member.pid, member.startTime);
      }
      return;
    }
    if (!TREE_KNOWN) {
      if (!this.#groupSignalled) this.#group.signal(signal);
      this.#groupSignalled = true;
      return;
    }
    for (const member of members ?? this.#members()) {
      if (this.#signalled.get(member.pid) === member.startTime) continue;
      signalMember(member, signal);
      this.#signalled.set(member.pid, member.startTime);
    }
  }

  #members(): Member[] {
    return runMembers(this.#group, this.#context.ownsOrphans, this.#leaf);
  }

  #arm(): void {
    if (this.#deadline !== undefined) return;
    this.#stopSentAt ??= this.#context.now();
    this.#deadlineAt = this.#context.now() + this.#context.options.killTimeout;
    this.#deadline = setTimeout(() => this.#input('deadline'), this.#context.options.killTimeout);
  }

  #kill(): void {
    if (this.#killed) return;
    this.#killed = true;
    clearTimeout(this.#deadline);
    const { options, emit, now } = this.#context;
    if (this.#phase === 'stopping') {
      emit('escalate', {
        name: options.name,
        pid: this.#main.pid,
        sent: this.#signal,
        afterMs: now() - (this.#stopSentAt ?? now()),
      });
    }
    const left = this.#members();
    this.#group.signal('SIGKILL');
    if (this.#phase === 'sweeping') this.#killedMembers = left;
    for (const member of left) signalMember(member, 'SIGKILL');
    // The cgroup's kill reaches what forked since the look, too.
    this.#leaf?.kill();
  }

  /**
   * Looks again until the tree is empty (`first`: the look the sweep began with); what appears gets
   * the signal too.
   */
  async #sweep(first: readonly Member[]): Promise<void> {
    let killedAt: number | undefined;
    for (let members: readonly Member[] | undefined = first; ; members = undefined) {
      // Reap first: a process of the tree that ended is gone only once its zombie is.
      if (this.#context.ownsOrphans) collectNow();
      members ??= this.#members();
      // Orphans that went to another reaper are gone once it reaped them: until then the group
      // lives.
      const alive =
        (TREE_KNOWN && members.length > 0) || (!this.#context.ownsOrphans && this.#group.signal(0));
      if (!alive) break;
      this.#signalTree(this.#killed ? 'SIGKILL' : this.#signal, members);
      if (this.#killed) killedAt ??= this.#context.now();
      // Something the kernel cannot end (stuck in D state): say so through `killed`, and move on.
      if (killedAt !== undefined && this.#context.now() - killedAt > KILLED_WAIT_MS) break;
      await new Promise((resolve) => setTimeout(resolve, SWEEP_POLL_MS));
    }
    this.#input('empty');
  }
}
