// The watchdog for one run: the notify channel feeds the pure heartbeat state, and one timer, on
// the monotonic clock, waits for its deadline. Every message is read when it arrives. A beat
// restarts the timer (no new one); anything else that moves the deadline later leaves the timer
// to fire early and look again, so no flood can keep pushing it away.
import {
  hangAt,
  observe,
  startWatch,
  type Hang,
  type WatchdogConfig,
  type WatchState,
} from '../core/heartbeat.js';
import type { NotifyMessage } from '../core/notify.js';
import { readNotifyChannel, type Datagram, type DropCounts } from './notify-channel.js';
import type { ChildPipe } from './pipe-reader.js';

const BEAT: NotifyMessage = { kind: 'beat' };
/** setTimeout's longest delay; a later deadline is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WatchdogEvents {
  ready(afterMs: number): void;
  /** RELOADING=1, and the READY=1 that ends the reload (`afterMs` since RELOADING=1). */
  reloading(): void;
  reloaded(afterMs: number): void;
  /** MAINPID=N, not yet checked. */
  mainPid(pid: number): void;
  status(text: string): void;
  stopping(): void;
  timeout(change: { timeoutMs: number | undefined } | { extendedToMs: number }): void;
  dropped(counts: DropCounts): void;
  hang(hang: Hang): void;
}

export interface Watchdog {
  /** When READY=1 came first; undefined before. */
  readyAt(): number | undefined;
  /** A batch of datagrams from the notify socket, read like one chunk of the pipe. */
  datagrams(read: (take: (datagram: Datagram) => void) => void): void;
  /** No hang is declared from now on (keepalive is ending the child); messages are still read. */
  disarm(): void;
  /**
   * The child was stopped and now runs again (SIGCONT): the time it spent stopped is not silence.
   */
  resumed(): void;
  /** After the child's exit: reads its last messages, then stops. */
  close(): Promise<void>;
}

export function watchChild(options: {
  /** The pipe; null when only the notify socket speaks. */
  channel: ChildPipe | null;
  config: WatchdogConfig;
  /** The child's start (default: now): READY=1's delay and the first deadline count from it. */
  startedAt?: number;
  now: () => number;
  events: WatchdogEvents;
}): Watchdog {
  const { config, now, events, channel: pipe } = options;
  const startedAt = options.startedAt ?? now();
  let state: WatchState = startWatch(config, startedAt);
  let armed = true;
  let timer: NodeJS.Timeout | undefined;
  /** The deadline the timer was set for, and the delay it was set with. */
  let timerFor = Number.POSITIVE_INFINITY;
  let timerDelay = 0;
  /** Between a fire past the deadline and the verdict: no new timer. */
  let draining = false;

  // Messages of one chunk share one clock reading, so its beats, up to the next other message,
  // are one beat at that time: a flood of beats costs one state change a chunk.
  let chunkAt = 0;
  let beaten = false;
  const beat = (): void => {
    if (beaten) state = observe(config, state, BEAT, chunkAt);
    beaten = false;
  };
  let status: string | undefined;
  let reloadingAt: number | undefined;
  const apply = (message: NotifyMessage): void => {
    beat();
    const before = state;
    state = observe(config, state, message, chunkAt);
    const wasReloadingAt = reloadingAt;
    if (message.kind === 'reloading') reloadingAt ??= chunkAt;
    else if (message.kind === 'ready') reloadingAt = undefined;
    if (message.kind === 'ready' && before.readyAt === undefined) events.ready(chunkAt - startedAt);
    else if (message.kind === 'ready' && wasReloadingAt !== undefined)
      events.reloaded(chunkAt - wasReloadingAt);
    else if (message.kind === 'reloading' && wasReloadingAt === undefined) events.reloading();
    else if (message.kind === 'main-pid') events.mainPid(message.pid);
    else if (message.kind === 'stopping' && before.stoppingAt === undefined) events.stopping();
    else if (message.kind === 'set-timeout' && state !== before)
      events.timeout({ timeoutMs: state.timeoutMs });
    else if (
      message.kind === 'extend' &&
      state.deadline !== before.deadline &&
      state.deadline !== undefined
    ) {
      events.timeout({ extendedToMs: state.deadline - chunkAt });
    }
  };

  const channel = readNotifyChannel(pipe, {
    begin() {
      chunkAt = now();
    },
    message(message) {
      if (message.kind === 'beat') beaten = true;
      // Only the last status of a chunk is reported: a child printing thousands is not a log flood.
      else if (message.kind === 'status') status = message.text;
      else apply(message);
    },
    end() {
      beat();
      if (status !== undefined) events.status(status);
      status = undefined;
      // The first chunk read at or past the deadline holds whatever the pipe held at the deadline
      // (a default pipe holds 64 KiB, one read's worth): judge now. Waiting for the timer instead
      // would wait for every chunk libuv reads in the same turn, and their cost depends on what the
      // child floods (a STATUS= line costs more than a garbage one).
      if (state.deadline !== undefined && chunkAt >= state.deadline) judge();
      else arm(chunkAt);
    },
    dropped: (counts) => events.dropped(counts),
  });

  /** Sets the timer for the deadline; `at` is now, or the time of the chunk just read. */
  function arm(at = now()): void {
    if (!armed || draining) return;
    const { deadline } = state;
    if (deadline === undefined) {
      clearTimeout(timer);
      timer = undefined;
      return;
    }
    // Nothing moved it (a flood of anything but beats): the timer stays as it is.
    if (timer !== undefined && deadline === timerFor) return;
    const delay = Math.min(Math.max(0, Math.ceil(deadline - at)), MAX_TIMER_MS);
    if (timer !== undefined && deadline > timerFor) {
      // A beat moved it a timeout on: the same timer, restarted (Node's refresh, no new timer).
      if (Math.round(deadline - at) === timerDelay) {
        timer.refresh();
        timerFor = deadline;
      }
      // Later by another amount (EXTEND_TIMEOUT_USEC): the timer fires early and looks again.
      return;
    }
    clearTimeout(timer);
    timerFor = deadline;
    timerDelay = delay;
    timer = setTimeout(fire, delay);
  }

  function fire(): void {
    timer = undefined;
    if (hangAt(state, now()) === undefined) arm();
    else drain();
  }

  /**
   * The deadline has passed, but a beat may be waiting: the pipe is read now (its reader does not
   * need a signal for that), and setImmediate runs right after the next poll, which reads the
   * notify socket's queue; then the verdict.
   */
  function drain(): void {
    draining = true;
    pipe?.readNow();
    setImmediate(judge);
  }

  /** The verdict at the deadline: hung, or saved by a beat read since (then the next deadline). */
  function judge(): void {
    draining = false;
    if (!armed) return;
    const hang = hangAt(state, now());
    if (hang === undefined) {
      arm();
      return;
    }
    armed = false;
    clearTimeout(timer);
    timer = undefined;
    events.hang(hang);
  }

  arm();
  return {
    readyAt() {
      return state.readyAt;
    },
    datagrams(read) {
      channel.datagrams(read);
    },
    resumed() {
      state = observe(config, state, BEAT, now());
      arm();
    },
    disarm() {
      armed = false;
      clearTimeout(timer);
      timer = undefined;
    },
    close() {
      this.disarm();
      return channel.close();
    },
  };
}
