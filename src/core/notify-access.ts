// Who may speak on the notify socket, as systemd's NotifyAccess= has it. Pure: the sender's
// ancestry is read from /proc by the shell (heart/notify-access.ts) and handed in.

/** `all`: the child's process tree; `main`: the child itself (or the MAINPID it named); `none`. */
export type NotifyAccess = 'all' | 'main' | 'none';

export interface Speaker {
  access: NotifyAccess;
  /** The run's main process: its leader, or the process it reported with MAINPID=. */
  main: number;
}

/**
 * Whether a datagram whose credentials name `pid` is accepted. `inTree` is asked only under `all`
 * and only for another pid than the main one: the common case (the child itself) costs nothing.
 */
export function mayNotify(
  speaker: Speaker,
  pid: number | undefined,
  inTree: (pid: number) => boolean,
): boolean {
  if (pid === undefined || speaker.access === 'none') return false;
  if (pid === speaker.main) return true;
  return speaker.access === 'all' && inTree(pid);
}
