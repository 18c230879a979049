// Signal facts come from human-signals (names, numbers, descriptions, default actions);
// this module only answers the questions keepalive asks of them.
import { signalsByName, signalsByNumber, type SignalName } from 'human-signals';

export type { SignalName };

interface SignalFacts {
  name: SignalName;
  number: number;
  description: string;
  /** The kernel's default action writes a core file (SIGSEGV, SIGABRT, SIGQUIT ...). */
  dumpsCore: boolean;
}

export function signalFacts(name: SignalName): SignalFacts {
  const signal = signalsByName[name];
  return {
    name: signal.name,
    number: signal.number,
    description: signal.description,
    dumpsCore: signal.action === 'core',
  };
}

/**
 * Reads a signal as a user types it: "SIGTERM", "TERM", "term" or "15".
 * Returns undefined for anything this platform does not know.
 */
export function parseSignal(text: string): SignalName | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const byNumber = (
      signalsByNumber as Record<
        number,
        (typeof signalsByNumber)[keyof typeof signalsByNumber] | undefined
      >
    )[Number(trimmed)];
    return byNumber?.supported ? byNumber.name : undefined;
  }
  const upper = trimmed.toUpperCase();
  const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as SignalName;
  const signal = signalsByName[name];
  return signal?.supported ? signal.name : undefined;
}

export function signalNumber(name: SignalName): number {
  return signalsByName[name].number;
}

/** "SIGKILL" for 9; undefined for a number this platform does not name. */
export function signalNameOf(number: number): SignalName | undefined {
  return (signalsByNumber as Record<number, { name: SignalName } | undefined>)[number]?.name;
}

/**
 * The name a person knows a signal by: human-signals counts real-time signals from SIGRT1 (34,
 * glibc's SIGRTMIN), kill -l and bash call that one SIGRTMIN, so 39 reads "SIGRTMIN+5".
 */
export function signalLabel(name: SignalName): string {
  const realtime = /^SIGRT(\d+)$/.exec(name);
  if (!realtime) return name;
  const offset = Number(realtime[1]) - 1;
  return offset === 0 ? 'SIGRTMIN' : `SIGRTMIN+${offset}`;
}
