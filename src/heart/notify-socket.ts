// The notify socket of one supervisor: what programs written for systemd send their sd_notify
// datagrams to ($NOTIFY_SOCKET). One waiter on the fd (poll on koffi's worker thread) wakes the
// loop; the datagrams queued then are read without blocking, a batch per loop turn, and handed to
// the current run's heart with their sender's credentials. Between runs they are read and dropped.
// Why this is native code, and not Node's: native-socket.ts.
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_DATAGRAM_BYTES } from '../core/notify.js';
import {
  bindDatagramSocket,
  closeFds,
  closeSocket,
  CONTROL_BUFFER_BYTES,
  EPROTO,
  receiveDatagram,
  shutdownSocket,
  whenReadable,
  type Credentials,
} from './native-socket.js';

/** Datagrams read per loop turn at most: timers (the watchdog's deadline) run between batches. */
const BATCH = 256;

export interface DatagramFrom {
  /** Valid only while the batch is read: the buffer is reused. */
  bytes: Uint8Array;
  sender: Credentials | undefined;
  /** Bigger than MAX_DATAGRAM_BYTES: only its beginning was read. */
  truncated: boolean;
}

export interface NotifyListener {
  /** `read` hands over every datagram of one batch. */
  datagrams(read: (take: (datagram: DatagramFrom) => void) => void): void;
}

export interface NotifySocket {
  /** NOTIFY_SOCKET's value: `@name` for an abstract socket, else its path. */
  readonly address: string;
  /** The run to hand datagrams to; undefined between runs. */
  listen(listener: NotifyListener | undefined): void;
  readonly listener: NotifyListener | undefined;
  /** Reads what is queued now: a child's last words before its exit. */
  drain(): void;
  close(): void;
}

/**
 * An abstract socket (Linux: nothing on disk, gone with keepalive) unless `abstract` is false or
 * binding one fails; then a socket in a private 0700 directory, removed by close(). `allow`: the
 * child runs as this user (--user), who is let send to a socket on disk, and nobody else.
 */
export function openNotifySocket(
  options: { abstract?: boolean; name?: () => string; allow?: SocketUser | undefined } = {},
): NotifySocket | { error: string } {
  const nextName = options.name ?? uniqueName;
  if (options.abstract ?? process.platform === 'linux') {
    // The name need not be secret: a socket is keepalive's because it bound it, and the credentials
    // of each datagram say who sent it. One that another process squatted on makes bind fail with
    // EADDRINUSE: then another name. (node:crypto's random bytes cost a few ms of start-up.)
    for (let attempt = 0; attempt < ABSTRACT_ATTEMPTS; attempt++) {
      const name = nextName();
      const bound = bindDatagramSocket(Buffer.concat([Buffer.from([0]), Buffer.from(name)]));
      if ('fd' in bound) return readSocket(bound.fd, `@${name}`, () => {});
      if (bound.errno === EPROTO) return { error: NO_CREDENTIALS };
      if (bound.errno !== EADDRINUSE) break;
    }
  }
  let lastError = 'no directory to put it in';
  for (const parent of socketParents()) {
    let directory: string;
    try {
      directory = mkdtempSync(join(parent, 'keepalive-'));
    } catch (error) {
      lastError = `${parent}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
      continue;
    }
    const path = join(directory, 'notify');
    const bound = bindDatagramSocket(Buffer.from(path));
    const remove = (): void => rmSync(directory, { recursive: true, force: true });
    if ('fd' in bound) {
      const granted =
        options.allow === undefined ? undefined : grant(directory, path, options.allow);
      if (granted === undefined) return readSocket(bound.fd, path, remove);
      closeSocket(bound.fd);
      remove();
      lastError = granted;
      continue;
    }
    remove();
    if (bound.errno === EPROTO) return { error: NO_CREDENTIALS };
    lastError = `${path}: errno ${bound.errno}`;
  }
  return { error: `cannot create the notify socket (${lastError})` };
}

export interface SocketUser {
  uid: number;
  gid: number;
}

/**
 * Lets one other user send to the socket: connect(2) needs write permission on the socket and
 * search permission on its directory. The socket becomes the user's, mode 0600; the directory stays
 * root's, and only gains search for all (0711): others find the socket there but may not send.
 * Nothing is made readable or writable for anyone else. Returns what failed, if anything.
 */
function grant(directory: string, path: string, user: SocketUser): string | undefined {
  try {
    chownSync(path, user.uid, user.gid);
    chmodSync(path, 0o600);
    chmodSync(directory, 0o711);
    return undefined;
  } catch (error) {
    return `${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
}

const EADDRINUSE = 98;
const NO_CREDENTIALS =
  "cannot create the notify socket: the senders' credentials do not read as this system " +
  'lays them out';
const ABSTRACT_ATTEMPTS = 8;
let opened = 0;

/**
 * Unique within this process (a counter), and unlikely to be guessed ahead of it (the clock, a
 * random number).
 */
function uniqueName(): string {
  opened += 1;
  const clock = process.hrtime.bigint().toString(36);
  const random = Math.floor(Math.random() * 2 ** 48).toString(36);
  return `keepalive/${process.pid}/${opened.toString(36)}-${clock}-${random}`;
}

function socketParents(): string[] {
  const runtime = process.env['XDG_RUNTIME_DIR'];
  return [...(runtime ? [runtime] : []), '/run', tmpdir()];
}

function readSocket(fd: number, address: string, remove: () => void): NotifySocket {
  const buffer = Buffer.alloc(MAX_DATAGRAM_BYTES);
  const control = Buffer.alloc(CONTROL_BUFFER_BYTES);
  let listener: NotifyListener | undefined;
  let closed = false;
  let waiting = false;
  let broken = false;
  let scheduled = false;

  /** Reads up to a batch; true if the batch was full (more may be queued). */
  const readBatch = (take: ((datagram: DatagramFrom) => void) | undefined): boolean => {
    for (let count = 0; count < BATCH; count++) {
      const got = receiveDatagram(fd, buffer, control);
      if (got.kind === 'error') broken = true; // EBADF and the like: waiting again would spin
      if (got.kind !== 'datagram') return false;
      try {
        take?.({ bytes: got.bytes, sender: got.sender, truncated: got.truncated });
      } finally {
        if (got.fds.length > 0) closeFds(got.fds);
      }
    }
    return true;
  };
  const drain = (): void => {
    if (closed || broken) return;
    let full = false;
    if (listener) listener.datagrams((take) => (full = readBatch(take)));
    else full = readBatch(undefined);
    if (full) {
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          drain();
        });
      }
    } else wait();
  };
  const wait = (): void => {
    if (closed || waiting || broken) return;
    waiting = true;
    whenReadable(fd, () => {
      waiting = false;
      if (closed) closeSocket(fd);
      else drain();
    });
  };

  wait();
  return {
    address,
    get listener() {
      return listener;
    },
    listen(next) {
      listener = next;
    },
    drain,
    close() {
      if (closed) return;
      closed = true;
      listener = undefined;
      // The waiter holds the fd until poll returns: shutdown wakes it, and it closes the fd then.
      shutdownSocket(fd);
      if (!waiting) closeSocket(fd);
      remove();
    },
  };
}
