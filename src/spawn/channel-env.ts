// What the child is given for the notify channel: the pipe's place among its fds, and the
// environment that names the pipe, the socket and the watchdog's timeout.
import type { HeartOptions } from '../options.js';
import type { StdioKind } from './spawn.js';

/**
 * The child's stdio: keepalive's own stdin, stdout and stderr (or, when `output` reads them, pipes
 * for stdout and stderr), and the channel at `notifyFd`.
 */
export function childStdio(options: HeartOptions, output = false): StdioKind[] {
  const stdio: StdioKind[] = output
    ? ['inherit', 'stream', 'stream']
    : ['inherit', 'inherit', 'inherit'];
  while (stdio.length < options.notifyFd) stdio.push('ignore');
  stdio.push('pipe');
  return stdio;
}

/**
 * KEEPALIVE_NOTIFY_FD always; NOTIFY_SOCKET when there is a notify socket; KEEPALIVE_HEARTBEAT_MS
 * and WATCHDOG_USEC only when the watchdog is on. None is ever inherited: a keepalive started by
 * systemd must not hand systemd's socket or watchdog to its child. WATCHDOG_PID stays unset: the
 * child's pid is not known before the spawn, and sd_watchdog_enabled() takes an unset one as "you".
 */
export function childEnv(
  env: NodeJS.ProcessEnv,
  options: HeartOptions,
  notifySocket?: string,
): NodeJS.ProcessEnv {
  const {
    KEEPALIVE_HEARTBEAT_MS: _ms,
    NOTIFY_SOCKET: _socket,
    WATCHDOG_USEC: _usec,
    WATCHDOG_PID: _pid,
    ...rest
  } = env;
  const watchdog = options.heartbeat !== undefined;
  return {
    ...rest,
    KEEPALIVE_NOTIFY_FD: String(options.notifyFd),
    ...(watchdog ? { KEEPALIVE_HEARTBEAT_MS: String(options.heartbeat) } : {}),
    ...(notifySocket === undefined ? {} : { NOTIFY_SOCKET: notifySocket }),
    ...(watchdog && notifySocket !== undefined
      ? { WATCHDOG_USEC: String(Math.round((options.heartbeat as number) * 1000)) }
      : {}),
  };
}
