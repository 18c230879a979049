// The notify channel's wire format: newline-terminated lines in systemd's sd_notify vocabulary.
// Pure: bytes in, messages out. It works on bytes and keeps at most one line's worth of them, so a
// child that floods the channel with garbage never turns into big strings or a growing buffer.

/** The longest line kept; anything longer is dropped whole. sd_notify messages are a few bytes. */
export const MAX_LINE_BYTES = 4096;

/**
 * Over MAX_LINE_BYTES (or a datagram over MAX_DATAGRAM_BYTES); a STATUS= text that is not UTF-8;
 * anything else that is not a message; a datagram from a process NotifyAccess does not allow.
 */
export type DropReason = 'too-long' | 'not-utf8' | 'malformed' | 'not-allowed';

/** The biggest datagram read on the notify socket; systemd reads at most 4 KiB of one. */
export const MAX_DATAGRAM_BYTES = 16 * 1024;

export type NotifyMessage =
  /** An empty line or WATCHDOG=1. */
  | { kind: 'beat' }
  /** READY=1: also a beat. */
  | { kind: 'ready' }
  | { kind: 'status'; text: string }
  | { kind: 'stopping' }
  /** WATCHDOG=trigger: the child asks to be treated as hung. */
  | { kind: 'trigger' }
  /** WATCHDOG_USEC=N, in milliseconds; 0 switches the watchdog off, as in systemd. */
  | { kind: 'set-timeout'; ms: number }
  /** EXTEND_TIMEOUT_USEC=N, in milliseconds. */
  | { kind: 'extend'; ms: number }
  /**
   * MAINPID=N: the child hands supervision to process N (checked by the shell before it counts).
   */
  | { kind: 'main-pid'; pid: number }
  | { kind: 'reloading' } // RELOADING=1; the next READY=1 says the reload is done
  /** A well-formed line with a key keepalive does not use (MONOTONIC_USEC=, ERRNO= ...). */
  | { kind: 'ignored' }
  | { kind: 'dropped'; why: DropReason };

// Shared instances: the messages a flood is made of cost no allocation.
const BEAT: NotifyMessage = { kind: 'beat' };
const READY: NotifyMessage = { kind: 'ready' };
const STOPPING: NotifyMessage = { kind: 'stopping' };
const RELOADING: NotifyMessage = { kind: 'reloading' };
const TRIGGER: NotifyMessage = { kind: 'trigger' };
const IGNORED: NotifyMessage = { kind: 'ignored' };
const DROP_REASONS = [
  'too-long',
  'not-utf8',
  'malformed',
  'not-allowed',
] as const satisfies readonly DropReason[];
const DROPPED = Object.fromEntries(
  DROP_REASONS.map((why) => [why, { kind: 'dropped', why }]),
) as Record<DropReason, NotifyMessage>;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const EQUALS = 0x3d;
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const WATCHDOG_1 = ascii('WATCHDOG=1');
const ONE = ascii('1');
const TRIGGER_VALUE = ascii('trigger');
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Key =
  | 'READY'
  | 'STOPPING'
  | 'WATCHDOG'
  | 'STATUS'
  | 'WATCHDOG_USEC'
  | 'EXTEND_TIMEOUT_USEC'
  | 'MAINPID'
  | 'RELOADING';
const KEYS: ReadonlyArray<[Key, Uint8Array]> = (
  [
    'READY',
    'STOPPING',
    'WATCHDOG',
    'STATUS',
    'WATCHDOG_USEC',
    'EXTEND_TIMEOUT_USEC',
    'MAINPID',
    'RELOADING',
  ] as const
).map((key) => [key, ascii(key)]);

/** One line, without its newline. */
export function parseLine(line: Uint8Array): NotifyMessage {
  return parseRange(line, 0, line.length);
}

/**
 * The line at bytes[start, end). Everything but a status text is read on the bytes themselves:
 * a flood of beats or of garbage makes no strings and no copies.
 */
function parseRange(bytes: Uint8Array, start: number, end: number): NotifyMessage {
  if (end - start > MAX_LINE_BYTES) return DROPPED['too-long'];
  // A trailing CR (a script written on Windows, `printf 'READY=1\r\n'`) is not part of the message.
  if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end--;
  if (end === start) return BEAT;
  if (equalBytes(bytes, start, end, WATCHDOG_1)) return BEAT;
  // KEY=VALUE, the key in capitals, digits and underscores, starting with a capital.
  let equals = start;
  while (equals < end && isKeyByte(bytes[equals] as number, equals === start)) equals++;
  if (equals === start || equals === end || bytes[equals] !== EQUALS) return DROPPED.malformed;
  const key = KEYS.find(([, name]) => equalBytes(bytes, start, equals, name))?.[0];
  const value = equals + 1;
  switch (key) {
    case undefined:
      return IGNORED;
    case 'READY':
      return equalBytes(bytes, value, end, ONE) ? READY : DROPPED.malformed;
    case 'STOPPING':
      return equalBytes(bytes, value, end, ONE) ? STOPPING : DROPPED.malformed;
    case 'RELOADING':
      return equalBytes(bytes, value, end, ONE) ? RELOADING : DROPPED.malformed;
    case 'MAINPID': {
      // No sign, no leading zero, at most 2^22 (pid_max's limit).
      const pid = bytes[value] === 0x30 ? undefined : digits(bytes, value, end, 7);
      return pid === undefined || pid > 2 ** 22 ? DROPPED.malformed : { kind: 'main-pid', pid };
    }
    case 'WATCHDOG':
      return equalBytes(bytes, value, end, TRIGGER_VALUE) ? TRIGGER : DROPPED.malformed;
    case 'STATUS':
      return isUtf8(bytes, value, end) ? statusMessage(bytes, value, end) : DROPPED['not-utf8'];
    case 'WATCHDOG_USEC':
    case 'EXTEND_TIMEOUT_USEC': {
      const ms = microsecondsToMs(bytes, value, end);
      if (ms === undefined) return DROPPED.malformed;
      return key === 'WATCHDOG_USEC' ? { kind: 'set-timeout', ms } : { kind: 'extend', ms };
    }
  }
}

const STATUS_KEY = ascii('STATUS=');

/** Where the value of a STATUS= line starts; undefined for any other line (or one too long). */
function statusValue(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end - start > MAX_LINE_BYTES || end - start < STATUS_KEY.length) return undefined;
  for (let i = 0; i < STATUS_KEY.length; i++)
    if (bytes[start + i] !== STATUS_KEY[i]) return undefined;
  return start + STATUS_KEY.length;
}

/** ASCII is checked byte by byte; only a text with other bytes goes through the decoder. */
function isUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if ((bytes[i] as number) >= 0x80) {
      try {
        utf8.decode(bytes.subarray(i, end));
        return true;
      } catch {
        return false;
      }
    }
  }
  return true;
}

/** A valid UTF-8 value, as the status text shown. */
function statusMessage(bytes: Uint8Array, start: number, end: number): NotifyMessage {
  return { kind: 'status', text: printable(utf8.decode(bytes.subarray(start, end))) };
}

function isKeyByte(byte: number, first: boolean): boolean {
  const capital = byte >= 0x41 && byte <= 0x5a;
  return first ? capital : capital || (byte >= 0x30 && byte <= 0x39) || byte === 0x5f;
}

function equalBytes(bytes: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[start + i] !== expected[i]) return false;
  return true;
}

/** A status ends up in log lines and on terminals: control characters become spaces. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** Whole microseconds, 1 to 15 digits (up to about 31 years); anything else is malformed. */
function microsecondsToMs(bytes: Uint8Array, start: number, end: number): number | undefined {
  const usec = digits(bytes, start, end, 15);
  return usec === undefined ? undefined : usec / 1000;
}

/** A decimal number of 1 to `most` digits. */
function digits(bytes: Uint8Array, start: number, end: number, most: number): number | undefined {
  if (end === start || end - start > most) return undefined;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = (bytes[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Of STATUS= lines in a row within one chunk, only the last is decoded: the others were replaced at
 * once, and decoding each would make a flood of them cost more than a flood of garbage (and delay
 * the watchdog's verdict). A STATUS= that is not UTF-8 is still counted as dropped.
 */
class StatusRun {
  #bytes: Uint8Array = new Uint8Array(0);
  #start = -1;
  #end = -1;

  constructor(readonly visit: (message: NotifyMessage) => void) {}

  /** Takes the line if it is a STATUS=; false for any other line (flush first, then parse it). */
  take(bytes: Uint8Array, lineStart: number, lineEnd: number): boolean {
    const value = statusValue(bytes, lineStart, lineEnd);
    if (value === undefined) return false;
    const end = bytes[lineEnd - 1] === CARRIAGE_RETURN ? lineEnd - 1 : lineEnd;
    if (isUtf8(bytes, value, end)) {
      this.#bytes = bytes;
      this.#start = value;
      this.#end = end;
    } else {
      this.flush();
      this.visit(DROPPED['not-utf8']);
    }
    return true;
  }

  flush(): void {
    if (this.#start === -1) return;
    this.visit(statusMessage(this.#bytes, this.#start, this.#end));
    this.#start = -1;
  }
}

/**
 * One datagram of the notify socket, as sd_notify sends it: KEY=VALUE lines, the last newline
 * optional. An empty line carries nothing (systemd skips it); unlike on the pipe it is no beat.
 * With `lastStatusOnly`, as NotifyDecoder: of STATUS= lines in a row only the last is visited.
 */
export function decodeDatagram(
  bytes: Uint8Array,
  visit: (message: NotifyMessage) => void,
  options: { lastStatusOnly?: boolean } = {},
): void {
  const statuses = new StatusRun(visit);
  for (let start = 0; start < bytes.length;) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline === -1 ? bytes.length : newline;
    const lineStart = start;
    start = end + 1;
    if (end === lineStart) continue;
    if (options.lastStatusOnly && statuses.take(bytes, lineStart, end)) continue;
    statuses.flush();
    visit(parseRange(bytes, lineStart, end));
  }
  statuses.flush();
}

/**
 * Splits a byte stream into lines and parses them, whatever the chunk boundaries. Holds at most
 * MAX_LINE_BYTES of an unfinished line; a longer line is reported once, when it passes the limit
 * (so an endless line is reported too), and skipped up to its newline.
 */
export class NotifyDecoder {
  /**
   * A line split across chunks waits here; allocated on first need, as most children never split
   * one.
   */
  #carry: Uint8Array | undefined;
  #carried = 0;
  /** Inside a line already reported as too long: skip to its end. */
  #skipping = false;

  /**
   * With `lastStatusOnly`, of STATUS= lines in a row within one chunk only the last is visited
   * (StatusRun).
   */
  readonly #lastStatusOnly: boolean;

  constructor(options: { lastStatusOnly?: boolean } = {}) {
    this.#lastStatusOnly = options.lastStatusOnly ?? false;
  }

  /**
   * Visits the messages of `chunk` in order (its first `length` bytes): a chunk of whole lines
   * allocates nothing.
   */
  push(chunk: Uint8Array, visit: (message: NotifyMessage) => void, length = chunk.length): void {
    let start = 0;
    let statuses: StatusRun | undefined;
    for (;;) {
      const found = chunk.indexOf(NEWLINE, start);
      const newline = found < length ? found : -1;
      if (newline === -1) {
        statuses?.flush();
        if (start < length) this.#keep(chunk.subarray(start, length), visit);
        return;
      }
      const lineStart = start;
      start = newline + 1;
      if (this.#skipping) {
        this.#skipping = false;
        continue;
      }
      if (
        this.#lastStatusOnly &&
        this.#carried === 0 &&
        statusValue(chunk, lineStart, newline) !== undefined
      ) {
        (statuses ??= new StatusRun(visit)).take(chunk, lineStart, newline);
        continue;
      }
      statuses?.flush();
      if (this.#carried === 0) {
        visit(parseRange(chunk, lineStart, newline));
      } else if (this.#carried + (newline - lineStart) > MAX_LINE_BYTES) {
        this.#carried = 0;
        visit(DROPPED['too-long']);
      } else {
        const carry = (this.#carry ??= new Uint8Array(MAX_LINE_BYTES));
        carry.set(chunk.subarray(lineStart, newline), this.#carried);
        const length = this.#carried + (newline - lineStart);
        this.#carried = 0;
        visit(parseRange(carry, 0, length));
      }
    }
  }

  /** Bytes held for an unfinished line, for tests: never more than MAX_LINE_BYTES. */
  get pending(): number {
    return this.#carried;
  }

  #keep(rest: Uint8Array, visit: (message: NotifyMessage) => void): void {
    if (this.#skipping || rest.length === 0) return;
    if (this.#carried + rest.length > MAX_LINE_BYTES) {
      this.#carried = 0;
      this.#skipping = true;
      visit(DROPPED['too-long']);
      return;
    }
    (this.#carry ??= new Uint8Array(MAX_LINE_BYTES)).set(rest, this.#carried);
    this.#carried += rest.length;
  }
}
