// The heart of one run: the notify channel with its watchdog, and the health check if there is one.
// It reports what the child says and decides when keepalive must kill it; the supervisor does the
// killing. What the child is given for the channel is channel-env.ts's.
import type { EventEmitter } from 'node:events';
import type { DroppedEvent, HeartEvents, Who } from '../core/events.js';
import type { KillCause } from '../core/exit.js';
import type { SignalName } from '../core/signals.js';
import type { HeartOptions } from '../options.js';
import { mayNotify, type Speaker } from '../core/notify-access.js';
import { inRunTree } from './notify-access.js';
import type { DropCounts } from './notify-channel.js';
import type { NotifyListener, NotifySocket } from './notify-socket.js';
import { readUntilEnd, type ChildPipe, type TakeChunk } from './pipe-reader.js';
import type { Probes } from './probes.js';
import { watchChild, type Watchdog } from './watchdog.js';
import type { Account } from '../spawn/account.js';

type EmitHeartEvent = EventEmitter<HeartEvents>['emit'];

/** One run's heartbeat: what the child said, and the watchdog over it. */
export interface Heart {
  /** When READY=1 came first; undefined before. */
  readyAt(): number | undefined;
  /** The last STATUS= text of this run. */
  status(): string | undefined;
  /**
   * keepalive is ending the child for its own reasons: no hang or unhealthy verdict from now on.
   */
  disarm(): void;
  /** The child runs again after a stop (Ctrl+Z, then fg): its deadline starts over. */
  resumed(): void;
  /**
   * After the child's exit: its last messages are read (a READY=1 just before it crashed counts).
   */
  close(): Promise<void>;
  /**
   * MAINPID= was taken: the heart's events name `pid`, and under --notify-access main only it
   * speaks.
   */
  handOver(pid: number): void;
  /** Reads what is queued now, without closing: what the leader sent just before it exited. */
  readFinalMessages(): Promise<void>;
}

export interface HeartStart {
  who: Who;
  channel: ChildPipe | null | undefined;
  /** The supervisor's notify socket: this run listens to it until it closes. */
  socket?: NotifySocket | undefined;
  /** keepalive is a subreaper: the leader's orphans are still the run's (NotifyAccess=all). */
  orphans: boolean;
  heart: HeartOptions;
  killTimeout: number;
  stopSignal: SignalName;
  env: NodeJS.ProcessEnv;
  cwd: string | undefined;
  /** Who the health command runs as: the child's user (--user, --group). */
  account?: Account | undefined;
  now: () => number;
  emit: EmitHeartEvent;
  kill: (cause: KillCause) => void;
  /** MAINPID=N, for the run to check. */
  mainPid?: (pid: number) => void;
}

export function startHeart(options: HeartStart): Heart {
  const { heart, channel } = options;
  if (channel && heart.heartbeat === undefined && !heart.health)
    return new HeartOnFirstWords(options, channel);
  return beatingHeart(options, options.now());
}

function beatingHeart(options: HeartStart, startedAt: number): Heart {
  const { heart, emit } = options;
  const who: Who = { ...options.who }; // its pid follows MAINPID= (handOver)
  let status: string | undefined;
  let armed = true;
  let probes: Probes | undefined;
  let closed = false;

  const { socket } = options;
  const watchdog: Watchdog | undefined =
    options.channel || socket
      ? watchChild({
          channel: options.channel ?? null,
          config: {
            timeoutMs: heart.heartbeat,
            graceMs: heart.heartbeatGrace,
            stopTimeoutMs: options.killTimeout,
          },
          startedAt,
          now: options.now,
          events: {
            ready: (afterMs) => emit('ready', { ...who, afterMs }),
            reloading: () => emit('reloading', { ...who }),
            reloaded: (afterMs) => emit('reloaded', { ...who, afterMs }),
            mainPid: (pid) => options.mainPid?.(pid),
            status: (text) => {
              status = text;
              emit('status', { ...who, text });
            },
            stopping: () => emit('stopping', who),
            timeout: (change) =>
              emit(
                'watchdog',
                'timeoutMs' in change
                  ? { ...who, change: 'timeout', timeoutMs: change.timeoutMs ?? null }
                  : { ...who, change: 'extend', dueInMs: change.extendedToMs },
              ),
            dropped: (counts) => emit('dropped', droppedEvent(who, counts)),
            hang: (hang) => {
              if (!armed) return;
              armed = false;
              probes?.close();
              emit('hang', { ...who, ...hang, signal: heart.hangSignal });
              options.kill({ kind: 'hung', signal: heart.hangSignal, ...hang });
            },
          },
        })
      : undefined;

  const speaker: Speaker = { access: heart.notifyAccess, main: who.pid };
  const leader = who.pid;
  const inTree = (pid: number): boolean => inRunTree(pid, leader, options.orphans);
  const listener: NotifyListener | undefined =
    watchdog && socket
      ? {
          datagrams: (read) =>
            watchdog.datagrams((take) =>
              read((datagram) =>
                take(
                  !mayNotify(speaker, datagram.sender?.pid, inTree)
                    ? 'not-allowed'
                    : datagram.truncated
                      ? 'too-long'
                      : datagram.bytes,
                ),
              ),
            ),
        }
      : undefined;
  socket?.listen(listener);

  const { health } = heart;
  if (health) {
    void import('./probes.js').then(({ startProbes }) => {
      if (closed || !armed) return;
      probes = startProbes({
        check: health,
        env: options.env,
        cwd: options.cwd,
        account: options.account,
        now: options.now,
        report: (report) => {
          if (!armed) return;
          emit('health', { ...who, ...report, retries: health.retries });
          if (report.verdict !== 'unhealthy') return;
          armed = false;
          watchdog?.disarm();
          emit('unhealthy', {
            ...who,
            failures: report.failures,
            detail: report.detail,
            signal: options.stopSignal,
          });
          options.kill({
            kind: 'unhealthy',
            signal: options.stopSignal,
            failures: report.failures,
          });
        },
      });
    });
  }

  return {
    readyAt() {
      return watchdog?.readyAt();
    },
    status() {
      return status;
    },
    disarm() {
      armed = false;
      watchdog?.disarm();
      probes?.close();
    },
    resumed() {
      watchdog?.resumed();
    },
    async close() {
      closed = true;
      this.disarm();
      if (socket && socket.listener === listener) {
        socket.drain();
        socket.listen(undefined);
      }
      await watchdog?.close();
    },
    handOver(pid) {
      who.pid = pid;
      speaker.main = pid;
    },
    async readFinalMessages() {
      if (socket && socket.listener === listener) socket.drain();
      const { channel } = options;
      // The pipe's last chunk is read by the loop's next poll; its end (no writer left) says that
      // was all.
      if (channel) await readUntilEnd(channel);
    },
  };
}

/**
 * Most children never say anything. With no watchdog and no health check, the heart starts at the
 * child's first chunk on the pipe or first datagrams on the notify socket: a run that says nothing
 * costs no watchdog and no decoder (a fifth of what a restart allocated). What the child says is
 * read as it comes, and judged from its start, as before.
 */
class HeartOnFirstWords implements Heart {
  readonly #options: HeartStart;
  readonly #channel: ChildPipe;
  readonly #startedAt: number;
  #heart: Heart | undefined;
  /** The started heart's reader, given the chunk that woke it and all after. */
  #take: TakeChunk | undefined;
  /** Holds the socket for this run until the heart starts and puts its own listener there. */
  readonly #listener: NotifyListener;
  #disarmed = false;
  #mainPid: number | undefined;

  constructor(options: HeartStart, channel: ChildPipe) {
    this.#options = options;
    this.#channel = channel;
    this.#startedAt = options.now();
    // The socket first: the pipe may hold words already, and the heart they start puts its own
    // listener on the socket, which this one must not then replace.
    this.#listener = {
      datagrams: (read) => {
        this.#heart ??= this.#start();
        const { listener } = options.socket ?? {};
        if (listener !== this.#listener) listener?.datagrams(read);
      },
    };
    options.socket?.listen(this.#listener);
    channel.read((chunk, length) => {
      this.#heart ??= this.#start();
      this.#take?.(chunk, length);
    });
  }

  /** The socket's queue read now, while it is still this run's: it may start the heart. */
  #drainSocket(): void {
    const { socket } = this.#options;
    if (socket?.listener === this.#listener) socket.drain();
  }

  #start(): Heart {
    const channel = this.#channel;
    const relay: ChildPipe = {
      read: (take) => (this.#take = take),
      ended: channel.ended,
      isEnded: () => channel.isEnded(),
      close: () => channel.close(),
      readNow: () => channel.readNow(),
    };
    const heart = beatingHeart({ ...this.#options, channel: relay }, this.#startedAt);
    if (this.#disarmed) heart.disarm();
    if (this.#mainPid !== undefined) heart.handOver(this.#mainPid);
    return heart;
  }

  readyAt(): number | undefined {
    return this.#heart?.readyAt();
  }

  status(): string | undefined {
    return this.#heart?.status();
  }

  disarm(): void {
    this.#disarmed = true;
    this.#heart?.disarm();
  }

  resumed(): void {
    this.#heart?.resumed();
  }

  async close(): Promise<void> {
    this.#drainSocket();
    if (!this.#heart) await readUntilEnd(this.#channel);
    if (this.#heart) return this.#heart.close();
    const { socket } = this.#options;
    if (socket?.listener === this.#listener) socket.listen(undefined);
    this.#channel.close();
  }

  handOver(pid: number): void {
    this.#mainPid = pid;
    this.#heart?.handOver(pid);
  }

  async readFinalMessages(): Promise<void> {
    if (!this.#heart) this.#drainSocket();
    if (this.#heart) await this.#heart.readFinalMessages();
    else await readUntilEnd(this.#channel);
  }
}

function droppedEvent(who: Who, counts: DropCounts): DroppedEvent {
  const { 'too-long': tooLong, 'not-utf8': notUtf8, malformed, 'not-allowed': notAllowed } = counts;
  return {
    ...who,
    tooLong,
    notUtf8,
    malformed,
    notAllowed,
    total: tooLong + notUtf8 + malformed + notAllowed,
  };
}
