// The run's main process: its leader, until the child names another with MAINPID=N (a daemon that
// forks its real service, as systemd's Type=notify and Type=forking ones do). From then on N's exit
// is the run's end and its status is keepalive's; the leader's exit is only told. keepalive waits
// for N once N is its child: N belongs to the run's tree, so under the subreaper it comes back to
// keepalive when its parent ends.
import type { EventEmitter } from 'node:events';
import type { SupervisorEvents } from '../core/events.js';
import { classify, factsFromWaitStatus, type ExitFacts } from '../core/exit.js';
import { judgeMainPid, refusalWords } from '../core/main-pid.js';
import type { SignalName } from '../core/signals.js';
import { adopt } from '../spawn/children.js';
import { inRunTree } from './notify-access.js';
import { signalGroup, type LeaderGroup } from '../tree/process-group.js';
import { readMember, signalMember, type Member } from '../tree/tree.js';

/** While N is not keepalive's child yet, no SIGCHLD tells of its end: look this often. */
const LOOK_EVERY_MS = 500;

type Ended = ExitFacts & { started: true };

export interface MainOptions {
  name: string;
  leader: number;
  leaderEnded: Promise<ExitFacts>;
  /** keepalive is a subreaper (or PID 1): without it, no MAINPID= is taken. */
  ownsOrphans: boolean;
  emit: EventEmitter<SupervisorEvents>['emit'];
  /** Reads what the child said just before the leader's exit (a MAINPID= sent right before it). */
  readFinalMessages: () => Promise<void>;
}

export class MainProcess {
  /** Settles when the main process has ended: the leader, or the last MAINPID= taken. */
  readonly ended: Promise<Ended>;
  readonly #options: MainOptions;
  /** Undefined while the leader is the main process. */
  #main: Member | undefined;
  #adoption: { ended: Promise<number | undefined>; release(): void } | undefined;
  #leaderGone = false;
  #leaderReaped = false;
  #settled = false;
  #refusals = 0;
  #settle: ((facts: Ended) => void) | undefined;

  constructor(options: MainOptions) {
    this.#options = options;
    this.ended = new Promise((resolve) => (this.#settle = resolve));
    void options.leaderEnded.then(async (facts) => {
      this.#leaderReaped = true;
      await options.readFinalMessages();
      this.#leaderGone = true;
      // After the main process's end the leader is only what the run left behind, swept as such.
      if (this.#settled) return;
      if (this.#main === undefined) this.#end(facts as Ended);
      else
        options.emit('leader-exit', {
          name: options.name,
          pid: options.leader,
          mainPid: this.#main.pid,
          outcome: classify(facts),
        });
    });
  }

  get pid(): number {
    return this.#main?.pid ?? this.#options.leader;
  }

  /**
   * The main process has ended and the run's end is being judged (its last words read): nothing is
   * forwarded now. A storm of signals to forward (a SIGHUP for every line of a dying terminal)
   * would otherwise keep the event loop inside its signal handling, and the last words would wait
   * for a loop turn that never comes.
   */
  get ending(): boolean {
    return this.#settled || (this.#leaderReaped && this.#main === undefined);
  }

  /**
   * The process MAINPID= named, as /proc showed it then; undefined while the leader is the main
   * process.
   */
  get member(): Member | undefined {
    return this.#main;
  }

  /**
   * MAINPID=pid from the child: taken if /proc proves it the run's; `taken` is told the new pid.
   */
  claim(pid: number, taken: (pid: number) => void): void {
    if (this.#settled || pid === this.pid) return;
    const { name, leader, ownsOrphans, emit } = this.#options;
    const member = readMember(pid);
    const refusal = judgeMainPid({
      pid,
      supervisorPid: process.pid,
      reaper: ownsOrphans,
      alive: member !== undefined && !(pid === leader && this.#leaderGone),
      inTree: member !== undefined && inRunTree(pid, leader, ownsOrphans),
    });
    if (refusal !== undefined) {
      this.#refusals++;
      emit('main-pid', {
        name,
        pid: this.pid,
        mainPid: pid,
        accepted: false,
        refused: refusalWords(refusal),
        refusals: this.#refusals,
      });
      return;
    }
    const before = this.pid;
    this.#adoption?.release();
    this.#adoption = undefined;
    // Back to the leader: it is waited for already.
    this.#main = pid === leader ? undefined : member;
    if (this.#main) this.#wait(this.#main);
    emit('main-pid', {
      name,
      pid: before,
      mainPid: pid,
      accepted: true,
      refused: null,
      refusals: this.#refusals,
    });
    taken(pid);
  }

  #wait(main: Member): void {
    const adoption = adopt(
      main.pid,
      () => readMember(main.pid)?.startTime === main.startTime,
      LOOK_EVERY_MS,
    );
    this.#adoption = adoption;
    void adoption.ended.then((status) => {
      if (this.#adoption !== adoption) return;
      // Its parent in the tree took the status: keepalive cannot know it, and counts a plain exit.
      this.#end(
        status === undefined
          ? { started: true, code: 0, signal: null }
          : (factsFromWaitStatus(status) as Ended),
      );
    });
  }

  #end(facts: Ended): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#adoption?.release();
    this.#settle?.(facts);
  }
}

/**
 * A forwarded signal (SIGHUP, SIGUSR1 ...) to the leader's group, and to the main process's own
 * group when MAINPID= named one outside it (a daemon that called setsid()), as systemd's reload
 * signals $MAINPID. The main process only while /proc shows it with the start time it was taken
 * with.
 */
export function forwardToMain(
  group: LeaderGroup,
  main: Member | undefined,
  signal: SignalName,
): void {
  group.signal(signal);
  if (main === undefined) return;
  const now = readMember(main.pid);
  if (!now || now.startTime !== main.startTime || (now.pgid === group.pgid && group.ours)) return;
  // Its own group's leader, alive: that number is its group's.
  if (now.pgid === main.pid) signalGroup(main.pid, signal);
  else signalMember(now, signal);
}
