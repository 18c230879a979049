// The on-exit hook (--on-exit CMD, or the API's onExit function), told of every exit of the child.
// It never holds up supervision: a hook runs beside the loop, at most one at a time, and exits that
// come while one runs are coalesced into the next call (told how many it missed). A command runs
// as `sh -c CMD` through the spawn gateway in a process group (and, where keepalive has them, a
// cgroup) of its own, which is killed after the timeout and once its shell exits, so nothing a
// hook starts outlives it (or keepalive).
import type { HookEvent } from '../core/events.js';
import { formatDuration } from '../core/duration.js';
import { hookEnvironment, type HookCall, type OnExitFunction } from '../core/hook-env.js';
import { signalLabel } from '../core/signals.js';
import { held, newLeaf, type Leaf } from '../tree/cgroups.js';
import { LeaderGroup, signalGroup } from '../tree/process-group.js';
import { spawnProcess } from '../spawn/spawn.js';
import type { Account } from '../spawn/account.js';
import { helperEnv, killHelperLeftovers } from '../tree/tree.js';

export interface HookSettings {
  hook: string | OnExitFunction;
  timeoutMs: number;
  name: string;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string | undefined;
  /** A command hook runs as the child's user (--user, --group); a function runs in keepalive. */
  account?: Account | undefined;
  now: () => number;
  report: (event: HookEvent) => void;
}

type Ending = Pick<HookEvent, 'result' | 'detail' | 'hookPid'>;

export class HookQueue {
  readonly #settings: HookSettings;
  #running: Promise<void> | undefined;
  #pending: Omit<HookCall, 'missed'> | undefined;
  #missed = 0;
  /** The running command's group, to kill if keepalive must end at once. */
  #group: number | undefined;
  #leaf: Leaf | undefined;

  constructor(settings: HookSettings) {
    this.#settings = settings;
  }

  /** Tells the hook of an exit: now, or once the running hook is done (the latest exit wins). */
  push(call: Omit<HookCall, 'missed'>): void {
    if (this.#running === undefined) {
      this.#start({ ...call, missed: 0 });
      return;
    }
    if (this.#pending !== undefined) this.#missed++;
    this.#pending = call;
  }

  /** Resolves once no hook runs and none waits: each is bounded by the timeout. */
  async waitForAll(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** keepalive must end now: the running command goes with it. */
  kill(): void {
    if (this.#group !== undefined) signalGroup(this.#group, 'SIGKILL');
    this.#leaf?.kill();
    this.#pending = undefined;
  }

  #start(call: HookCall): void {
    const startedAt = this.#settings.now();
    this.#running = this.#run(call).then((ending) => {
      this.#settings.report({
        name: this.#settings.name,
        ...ending,
        durationMs: this.#settings.now() - startedAt,
        outcome: call.event.outcome.kind,
        missed: call.missed,
      });
      this.#running = undefined;
      const next = this.#pending;
      if (next === undefined) return;
      this.#pending = undefined;
      const missed = this.#missed;
      this.#missed = 0;
      this.#start({ ...next, missed });
    });
  }

  #run(call: HookCall): Promise<Ending> {
    const env = hookEnvironment(call, process.pid);
    const { hook } = this.#settings;
    return typeof hook === 'string' ? this.#command(hook, env) : this.#function(hook, call, env);
  }

  async #command(command: string, hookEnv: Record<string, string>): Promise<Ending> {
    const { env, cwd, timeoutMs, account } = this.#settings;
    const made = newLeaf('hook');
    this.#leaf = made;
    const spawned = await spawnProcess({
      command: '/bin/sh',
      args: ['-c', command],
      cwd,
      env: helperEnv({ ...env, ...hookEnv }),
      account,
      stdio: ['ignore', 'inherit', 'inherit'],
      ownGroup: true,
      started: (pid) => made?.adopt(pid),
    });
    const leaf = held(made);
    this.#leaf = leaf;
    if (!spawned.started) {
      leaf?.retire();
      this.#leaf = undefined;
      return { result: 'not-started', detail: spawned.message, hookPid: undefined };
    }
    const pid = spawned.pid;
    const group = new LeaderGroup(pid, spawned.ended);
    this.#group = pid;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(pid, 'SIGKILL');
      leaf?.kill();
    }, timeoutMs);
    const facts = await spawned.ended;
    clearTimeout(timer);
    // What the hook left running in its group (`curl ... &`) ends with it: it is not the child's
    // tree.
    group.signal('SIGKILL');
    if (leaf) leaf.retire();
    else killHelperLeftovers();
    this.#group = undefined;
    this.#leaf = undefined;
    if (timedOut)
      return {
        result: 'timed-out',
        detail: `still running after ${formatDuration(timeoutMs)}`,
        hookPid: pid,
      };
    if (!facts.started) return { result: 'not-started', detail: facts.errno, hookPid: pid };
    if (facts.signal !== null)
      return { result: 'failed', detail: `killed by ${signalLabel(facts.signal)}`, hookPid: pid };
    return facts.code === 0
      ? { result: 'done', detail: 'exited with code 0', hookPid: pid }
      : { result: 'failed', detail: `exited with code ${facts.code}`, hookPid: pid };
  }

  async #function(
    hook: OnExitFunction,
    call: HookCall,
    env: Record<string, string>,
  ): Promise<Ending> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Ending>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            result: 'timed-out',
            detail: `still running after ${formatDuration(this.#settings.timeoutMs)}`,
            hookPid: undefined,
          }),
        this.#settings.timeoutMs,
      );
    });
    const called = (async (): Promise<Ending> => {
      try {
        await hook({ ...call, env });
        return { result: 'done', detail: 'returned', hookPid: undefined };
      } catch (error) {
        return {
          result: 'failed',
          detail: `threw: ${error instanceof Error ? error.message : String(error)}`,
          hookPid: undefined,
        };
      }
    })();
    try {
      return await Promise.race([called, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
