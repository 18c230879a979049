// Reads what the child says: the pipe's chunks of bytes and the notify socket's datagrams in,
// messages out, in order. The decoder holds at most one line; the stream is consumed as it arrives,
// so whatever the child writes, keepalive's memory stays flat and the pipe's own back-pressure
// (or the socket's queue limit) slows a flooding child down.
import {
  decodeDatagram,
  NotifyDecoder,
  type DropReason,
  type NotifyMessage,
} from '../core/notify.js';
import { readUntilEnd, type ChildPipe } from './pipe-reader.js';

/** Lines dropped since the last report. */
export type DropCounts = Record<DropReason, number>;

/** At most one warning about dropped lines per this interval. */
export const DROP_REPORT_INTERVAL_MS = 10_000;

export interface ChannelHandlers {
  /** A chunk starts: every message until `end()` arrived at the same moment. */
  begin(): void;
  message(message: NotifyMessage): void;
  end(): void;
  dropped(counts: DropCounts): void;
}

/** One datagram's bytes, or why it was refused before being read. */
export type Datagram = Uint8Array | DropReason;

export interface NotifyChannel {
  /** Datagrams read in one go from the notify socket: one chunk's worth, one clock reading. */
  datagrams(read: (take: (datagram: Datagram) => void) => void): void;
  /** Reads what is still in the pipe (the child's last words before it exited), then lets go. */
  close(): Promise<void>;
}

export function readNotifyChannel(
  pipe: ChildPipe | null,
  handlers: ChannelHandlers,
): NotifyChannel {
  // The watchdog reports only the last status of a chunk: the others need not be decoded.
  const decoder = new NotifyDecoder({ lastStatusOnly: true });
  const drops = dropReporter(handlers.dropped);
  const visit = (message: NotifyMessage): void => {
    if (message.kind === 'dropped') drops.count(message.why);
    else handlers.message(message);
  };
  pipe?.read((chunk, length) => {
    handlers.begin();
    decoder.push(chunk, visit, length);
    handlers.end();
  });
  const take = (datagram: Datagram): void => {
    if (typeof datagram === 'string') drops.count(datagram);
    else decodeDatagram(datagram, visit, { lastStatusOnly: true });
  };
  return {
    datagrams(read) {
      handlers.begin();
      read(take);
      handlers.end();
    },
    async close() {
      if (pipe) await readUntilEnd(pipe);
      pipe?.close();
      drops.flush();
    },
  };
}

/** Reports the first drop at once, then at most one line per interval with the counts since. */
function dropReporter(report: (counts: DropCounts) => void): {
  count(why: DropReason): void;
  flush(): void;
} {
  let counts: DropCounts | undefined;
  let lastReportAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (counts === undefined) return;
    const reported = counts;
    counts = undefined;
    lastReportAt = performance.now();
    report(reported);
  };
  return {
    count(why) {
      counts ??= { 'too-long': 0, 'not-utf8': 0, malformed: 0, 'not-allowed': 0 };
      counts[why]++;
      if (timer !== undefined) return;
      const wait = lastReportAt + DROP_REPORT_INTERVAL_MS - performance.now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait).unref();
    },
    flush,
  };
}
