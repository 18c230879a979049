// The unix datagram socket calls of the notify socket, through the libc native.ts loads. Native
// because Node cannot do it: `dgram` has only UDP, net.Socket refuses an AF_UNIX datagram fd
// (ERR_INVALID_FD_TYPE), and a program written for systemd sends its sd_notify datagrams to such a
// socket. And the sender's credentials (SCM_CREDENTIALS), which --notify-access main and all need
// to tell the main process and its tree from any other sender, are read by recvmsg(2) alone.
// Only the waiting is asynchronous (one poll for every socket of the process, on a libuv
// threadpool thread through koffi); reads are non-blocking calls on the main thread, so a flood is
// drained in batches between loop turns.
// Layouts: msghdr, iovec, cmsghdr and pollfd are koffi structs, laid out by koffi for the running
// platform's C ABI; and a new socket reads the credentials of a datagram it sends itself before it
// is used (bindDatagramSocket), so a layout that differs here is found at start-up.
import { endianness } from 'node:os';
import type Koffi from 'koffi';
import type { KoffiFunc } from 'koffi';
import { loadLibc } from '../native/native.js';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_PASSCRED = 16;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const MSG_TRUNC = 0x20;
const MSG_CTRUNC = 0x08;
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SHUT_RDWR = 2;
const POLLIN = 1;
const EAGAIN = 11;
const EINTR = 4;
/** sockaddr_un: a 16-bit family, then 108 bytes of path. */
const SUN_PATH_BYTES = 108;
/** Room for the credentials and for the most fds one message can carry (SCM_MAX_FD, 253). */
const CONTROL_BYTES = 2048;
const LITTLE_ENDIAN = endianness() === 'LE';

/** Where the parts of cmsghdr and pollfd are, from koffi's layout of them on this platform. */
interface Layout {
  /** sizeof(size_t): cmsg_len's width, and what CMSG_ALIGN rounds to. */
  word: number;
  /** CMSG_ALIGN(sizeof(struct cmsghdr)): where a control message's data starts. */
  cmsgHeader: number;
  cmsgLevel: number;
  cmsgType: number;
  pollfd: number;
  pollEvents: number;
  pollRevents: number;
}

interface SocketCalls {
  koffi: typeof Koffi;
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, address: Buffer, length: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: number[], length: number) => number;
  recvmsg: (fd: number, message: MessageHeader, flags: number) => number;
  poll: KoffiFunc<(fds: Buffer, count: number, timeout: number) => number>;
  shutdown: (fd: number, how: number) => number;
  close: (fd: number) => number;
  pipe2: (fds: number[], flags: number) => number;
  read: (fd: number, buffer: Buffer, length: number) => number;
  write: (fd: number, buffer: Buffer, length: number) => number;
  sendto: (
    fd: number,
    buffer: Buffer,
    length: number,
    flags: number,
    address: Buffer,
    addressLength: number,
  ) => number;
  layout: Layout;
}

interface MessageHeader {
  name: null;
  namelen: number;
  iov: { base: Buffer; len: number };
  iovlen: number;
  control: Buffer;
  controllen: number;
  flags: number;
}

let calls: SocketCalls | undefined;

function load(): SocketCalls {
  if (calls) return calls;
  const { koffi, library } = loadLibc();
  koffi.struct('keepalive_iovec', { base: 'void *', len: 'size_t' });
  koffi.struct('keepalive_msghdr', {
    name: 'void *',
    namelen: 'uint32',
    iov: 'keepalive_iovec *',
    iovlen: 'size_t',
    control: 'void *',
    controllen: 'size_t',
    flags: 'int',
  });
  const cmsghdr = koffi.struct('keepalive_cmsghdr', { len: 'size_t', level: 'int', type: 'int' });
  const pollfd = koffi.struct('keepalive_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  const word = koffi.sizeof('size_t');
  const layout: Layout = {
    word,
    cmsgHeader: align(koffi.sizeof(cmsghdr), word),
    cmsgLevel: koffi.offsetof(cmsghdr, 'level'),
    cmsgType: koffi.offsetof(cmsghdr, 'type'),
    pollfd: koffi.sizeof(pollfd),
    pollEvents: koffi.offsetof(pollfd, 'events'),
    pollRevents: koffi.offsetof(pollfd, 'revents'),
  };
  const fn = <T>(signature: string): T => library.func(signature) as T;
  calls = {
    layout,
    koffi,
    socket: fn('int socket(int domain, int type, int protocol)'),
    bind: fn('int bind(int fd, void *address, uint32 length)'),
    setsockopt: fn('int setsockopt(int fd, int level, int name, int *value, uint32 length)'),
    recvmsg: fn('intptr_t recvmsg(int fd, _Inout_ keepalive_msghdr *message, int flags)'),
    poll: fn('int poll(void *fds, unsigned long count, int timeout)'),
    shutdown: fn('int shutdown(int fd, int how)'),
    close: fn('int close(int fd)'),
    pipe2: fn('int pipe2(_Out_ int *fds, int flags)'),
    read: fn('intptr_t read(int fd, void *buffer, size_t length)'),
    write: fn('intptr_t write(int fd, void *buffer, size_t length)'),
    sendto: fn(
      'intptr_t sendto(int fd, void *buffer, size_t length, int flags, void *to, uint32 size)',
    ),
  };
  return calls;
}

/** CMSG_ALIGN: rounded up to a multiple of `word`. */
function align(length: number, word: number): number {
  return Math.ceil(length / word) * word;
}

/** The sender's credentials, as the kernel gives them (pid in keepalive's pid namespace). */
export interface Credentials {
  pid: number;
  uid: number;
  gid: number;
}

export type Received =
  /** `fds`: what it carried, open in keepalive until the caller closes them (closeFds). */
  | {
      kind: 'datagram';
      bytes: Buffer;
      sender: Credentials | undefined;
      truncated: boolean;
      fds: number[];
    }
  | { kind: 'empty' }
  | { kind: 'error'; errno: number };

/**
 * A bound AF_UNIX datagram socket that passes credentials. `path` starting with NUL is abstract.
 * Returns the fd, or the errno of the call that failed.
 */
export function bindDatagramSocket(path: Buffer): { fd: number } | { errno: number } {
  const c = load();
  if (path.length >= SUN_PATH_BYTES) return { errno: 36 }; // ENAMETOOLONG
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return { errno: c.koffi.errno() };
  const address = Buffer.alloc(2 + SUN_PATH_BYTES);
  address.writeUInt16LE(AF_UNIX, 0);
  path.copy(address, 2);
  // An abstract name is exactly its bytes; a path is NUL-terminated.
  const length = 2 + path.length + (path[0] === 0 ? 0 : 1);
  if (
    c.bind(fd, address, length) !== 0 ||
    c.setsockopt(fd, SOL_SOCKET, SO_PASSCRED, [1], 4) !== 0
  ) {
    const errno = c.koffi.errno();
    c.close(fd);
    return { errno };
  }
  if (!readsOwnCredentials(fd, address, length)) {
    c.close(fd);
    return { errno: EPROTO };
  }
  return { fd };
}

/** What bindDatagramSocket returns when the credentials the kernel attaches cannot be read here. */
export const EPROTO = 71;

/**
 * The start-up check of the layouts: a datagram the socket sends itself must come back with this
 * process's pid, uid and gid. What else is queued by then (a stranger's datagram) is dropped.
 */
function readsOwnCredentials(fd: number, address: Buffer, length: number): boolean {
  const c = load();
  const token = Buffer.from(`keepalive ${process.pid} ${process.hrtime.bigint()}`);
  const sent = c.sendto(fd, token, token.length, MSG_DONTWAIT, address, length);
  if (sent !== token.length) return false;
  const buffer = Buffer.alloc(token.length + 1);
  const control = Buffer.alloc(CONTROL_BYTES);
  for (let count = 0; count < 64; count++) {
    const got = receiveDatagram(fd, buffer, control);
    if (got.kind !== 'datagram') return false;
    if (got.fds.length > 0) closeFds(got.fds);
    if (!got.bytes.equals(token)) continue;
    const { sender } = got;
    const { pid, uid, gid } = sender ?? {};
    return pid === process.pid && uid === process.getuid?.() && gid === process.getgid?.();
  }
  return false;
}

/**
 * Takes one datagram if there is one, without waiting. The file descriptors it carries (FDSTORE=1,
 * BARRIER=1) are the caller's to close, after it looked at the sender: systemd-notify waits for
 * its barrier fd to be closed, so until then it is alive and its place in the tree can be read.
 */
export function receiveDatagram(fd: number, buffer: Buffer, control: Buffer): Received {
  const c = load();
  for (;;) {
    const header: MessageHeader = {
      name: null,
      namelen: 0,
      iov: { base: buffer, len: buffer.length },
      iovlen: 1,
      control,
      controllen: control.length,
      flags: 0,
    };
    const length = c.recvmsg(fd, header, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
    if (length < 0) {
      const errno = c.koffi.errno();
      if (errno === EINTR) continue;
      return errno === EAGAIN ? { kind: 'empty' } : { kind: 'error', errno };
    }
    const { sender, fds } = readControl(control, header.controllen);
    const truncated = length > buffer.length || (header.flags & (MSG_TRUNC | MSG_CTRUNC)) !== 0;
    return {
      kind: 'datagram',
      bytes: buffer.subarray(0, Math.min(length, buffer.length)),
      sender,
      truncated,
      fds,
    };
  }
}

/** The credentials and the fds in the control messages. */
function readControl(
  control: Buffer,
  length: number,
): { sender: Credentials | undefined; fds: number[] } {
  const { word, cmsgHeader, cmsgLevel, cmsgType } = load().layout;
  const int = (at: number): number =>
    LITTLE_ENDIAN ? control.readInt32LE(at) : control.readInt32BE(at);
  const size = (at: number): number => {
    if (word === 4) return LITTLE_ENDIAN ? control.readUInt32LE(at) : control.readUInt32BE(at);
    return Number(LITTLE_ENDIAN ? control.readBigUInt64LE(at) : control.readBigUInt64BE(at));
  };
  let sender: Credentials | undefined;
  const fds: number[] = [];
  for (let at = 0; at + cmsgHeader <= length;) {
    const bytes = size(at);
    if (bytes < cmsgHeader || at + bytes > length) break;
    const level = int(at + cmsgLevel);
    const type = int(at + cmsgType);
    const data = at + cmsgHeader;
    // struct ucred: pid_t, uid_t, gid_t, 32 bits each on Linux.
    if (level === SOL_SOCKET && type === SCM_CREDENTIALS && bytes >= cmsgHeader + 12) {
      sender = { pid: int(data), uid: int(data + 4) >>> 0, gid: int(data + 8) >>> 0 };
    } else if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let fd = data; fd + 4 <= at + bytes; fd += 4) fds.push(int(fd));
    }
    at += align(bytes, word);
  }
  return { sender, fds };
}

/**
 * Calls `ready` once the socket has something to read (or is shut down). Every socket of the
 * process is waited for by one poll, which koffi runs on a libuv threadpool thread and which holds
 * it while any socket waits: many supervisors in one program still take one thread of the pool's 4.
 * A socket added while the poll waits wakes it through a pipe, and the poll starts over with it.
 */
export function whenReadable(fd: number, ready: () => void): void {
  waiting.set(fd, ready);
  if (polling) wakePoll();
  else startPoll();
}

/** fd => what to call when it is readable; each call is for one readiness. */
const waiting = new Map<number, () => void>();
let polling = false;
let wake: [read: number, write: number] | undefined;
const wakeByte = Buffer.alloc(64);

/** Node joins its threadpool at exit: a poll still waiting would hold process.exit() forever. */
let exiting = false;

function startPoll(): void {
  if (exiting) return;
  const c = load();
  if (!wake) {
    const fds = [0, 0];
    if (c.pipe2(fds, SOCK_NONBLOCK | SOCK_CLOEXEC) !== 0)
      throw new Error(`pipe2 failed (errno ${c.koffi.errno()})`);
    wake = [fds[0] as number, fds[1] as number];
    process.once('exit', wakeAtExit);
  }
  const fds = [wake[0], ...waiting.keys()];
  const { pollfd, pollEvents, pollRevents } = c.layout;
  // The threadpool thread writes into this buffer until poll returns: it stays referenced till
  // then.
  const set = Buffer.alloc(pollfd * fds.length);
  const revents = (i: number): number => {
    const at = i * pollfd + pollRevents;
    return LITTLE_ENDIAN ? set.readInt16LE(at) : set.readInt16BE(at);
  };
  fds.forEach((fd, i) => {
    if (LITTLE_ENDIAN) {
      set.writeInt32LE(fd, i * pollfd);
      set.writeInt16LE(POLLIN, i * pollfd + pollEvents);
    } else {
      set.writeInt32BE(fd, i * pollfd);
      set.writeInt16BE(POLLIN, i * pollfd + pollEvents);
    }
  });
  polling = true;
  c.poll.async(set, fds.length, -1, () => {
    polling = false;
    if (revents(0) !== 0) while (c.read(fds[0] as number, wakeByte, wakeByte.length) > 0);
    for (let i = 1; i < fds.length; i++) {
      if (revents(i) === 0) continue;
      const fd = fds[i] as number;
      const ready = waiting.get(fd);
      waiting.delete(fd);
      ready?.();
    }
    if (waiting.size > 0 && !polling) startPoll();
    else if (waiting.size === 0 && !polling) closeWake();
  });
}

function wakePoll(): void {
  if (wake) load().write(wake[1], wakeByte, 1);
}

function wakeAtExit(): void {
  exiting = true;
  wakePoll();
}

/** No socket waits: the wake pipe and the exit listener go (an embedding program is as it was). */
function closeWake(): void {
  if (!wake) return;
  load().close(wake[0]);
  load().close(wake[1]);
  wake = undefined;
  process.off('exit', wakeAtExit);
}

/** Wakes a pending whenReadable and lets the socket go. */
export function shutdownSocket(fd: number): void {
  load().shutdown(fd, SHUT_RDWR);
}

export function closeSocket(fd: number): void {
  load().close(fd);
}

/** keepalive keeps no fd a child sends: each is closed (and a barrier so released). */
export function closeFds(fds: readonly number[]): void {
  const { close } = load();
  for (const fd of fds) close(fd);
}

export const CONTROL_BUFFER_BYTES = CONTROL_BYTES;
