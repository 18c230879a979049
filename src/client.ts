// keepalive-supervisor/client: what a Node.js child tells keepalive, on the notify channel it was
// given.
//
//   import { heartbeat, ready } from 'keepalive-supervisor/client';
//   heartbeat(); // beats from the event loop: a blocked loop stops the beats, caught as a hang
//   ready(); // when the app can do its work: the stable run (--reset-after) counts from here
//
// Outside keepalive (no KEEPALIVE_NOTIFY_FD) every call returns at once and does nothing.
// Writes are synchronous and a few bytes long, so a message is never left behind in a buffer
// when the app crashes right after sending it.
import { writeSync } from 'node:fs';

/** What happens when keepalive has gone away (the write failed with EPIPE, EBADF ...). */
export type SupervisorLostHandler = (error: NodeJS.ErrnoException) => void;

/** The channel's fd, once known; undefined outside keepalive or once keepalive is gone. */
let channel: number | undefined | null = null;
let beating: NodeJS.Timeout | undefined;
/**
 * The default: stop talking and carry on. A working app is not taken down because its supervisor
 * died; a new keepalive (cron, `--pidfile`) finds and replaces it. Pass a handler to exit instead.
 */
let onLost: SupervisorLostHandler = () => {};

function fd(): number | undefined {
  if (channel === null) {
    const text = process.env['KEEPALIVE_NOTIFY_FD'];
    channel = text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
  }
  return channel;
}

function send(line: string): void {
  const target = fd();
  if (target === undefined) return;
  try {
    writeSync(target, `${line}\n`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A full channel means keepalive has plenty of unread messages already: this one can go.
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return;
    channel = undefined;
    stopBeating();
    onLost(error as NodeJS.ErrnoException);
  }
}

/** True when this process was started by keepalive with a notify channel. */
export function supervised(): boolean {
  return fd() !== undefined;
}

/** One heartbeat (WATCHDOG=1). */
export function beat(): void {
  send('WATCHDOG=1');
}

/**
 * The app is ready (READY=1): also a heartbeat, and --reset-after is counted from here for the
 * backoff.
 */
export function ready(): void {
  send('READY=1');
}

/**
 * A line of free text for `keepalive status` and keepalive's verbose log (one line, at most 1000
 * characters).
 */
export function status(text: string): void {
  send(`STATUS=${text.replace(/[\r\n]+/g, ' ').slice(0, 1000)}`);
}

/**
 * The app is shutting down on purpose (STOPPING=1): it may stop beating, but has --kill-timeout to
 * exit.
 */
export function stopping(): void {
  send('STOPPING=1');
}

/**
 * Asks keepalive to treat the app as hung now (WATCHDOG=trigger): killed with --hang-signal and
 * restarted.
 */
export function trigger(): void {
  send('WATCHDOG=trigger');
}

/**
 * Moves the current deadline at least this far away, once (EXTEND_TIMEOUT_USEC): for a known long
 * pause.
 */
export function extendTimeout(milliseconds: number): void {
  if (!(milliseconds >= 0) || !Number.isFinite(milliseconds)) return;
  send(`EXTEND_TIMEOUT_USEC=${Math.round(milliseconds * 1000)}`);
}

/**
 * Beats from the event loop, every third of KEEPALIVE_HEARTBEAT_MS, so that a blocked event loop
 * (an endless loop, a long synchronous computation) misses its beats and keepalive catches it.
 * The timer does not keep the process alive. Returns a function that stops the beats; without a
 * watchdog (no KEEPALIVE_HEARTBEAT_MS) it does nothing.
 */
export function heartbeat(): () => void {
  const timeout = Number(process.env['KEEPALIVE_HEARTBEAT_MS']);
  if (fd() === undefined || !(timeout > 0)) return stopBeating;
  if (beating === undefined) {
    beating = setInterval(beat, Math.max(1, Math.floor(timeout / 3))).unref();
    beat();
  }
  return stopBeating;
}

function stopBeating(): void {
  clearInterval(beating);
  beating = undefined;
}

/** What to do when keepalive is gone. The default stops all messages and lets the app run on. */
export function onSupervisorLost(handler: SupervisorLostHandler): void {
  onLost = handler;
}
