// The command line's heartbeat and health-check flags: their yargs definitions and their checks,
// kept apart from cli.ts so that the rest of the command line reads as before.
import {
  cliHttpUrl,
  cliDuration,
  cliNotifyFd,
  cliPositiveDuration,
  cliRetries,
  cliSignal,
  DEFAULTS,
  UsageError,
  type SuperviseOptions,
} from './options.js';

export const HEART_OPTIONS = {
  heartbeat: { type: 'string', group: 'Heartbeat:', describe: 'turn the watchdog on: the child is hung when no heartbeat arrives for this long' },
  'heartbeat-grace': { type: 'string', group: 'Heartbeat:', describe: 'time allowed for the first heartbeat (default: --heartbeat)' },
  'hang-signal': { type: 'string', group: 'Heartbeat:', describe: 'signal for a hung child, SIGKILL after --kill-timeout; SIGABRT or SIGQUIT for a core or thread dump', default: DEFAULTS.hangSignal },
  'notify-fd': { type: 'string', group: 'Heartbeat:', describe: 'file descriptor of the notify channel in the child (KEEPALIVE_NOTIFY_FD)', default: String(DEFAULTS.notifyFd) },
  'health-url': { type: 'string', group: 'Health check:', describe: 'probe by HTTP GET: 2xx is healthy' },
  'health-cmd': { type: 'string', group: 'Health check:', describe: 'probe by a shell command: exit code 0 is healthy' },
  // No yargs defaults below: they are only allowed with a health check, so "given" must be visible.
  'health-interval': { type: 'string', group: 'Health check:', describe: 'time between probes (default: 30s)' },
  'health-timeout': { type: 'string', group: 'Health check:', describe: 'a probe taking longer has failed (default: 30s)' },
  'health-retries': { type: 'string', group: 'Health check:', describe: 'failures in a row that make the child unhealthy: stop signal, then restart (default: 3)' },
  'health-start-period': { type: 'string', group: 'Health check:', describe: 'failures this soon after the start do not count (default: 0)' },
} as const;

type HeartFlag = keyof typeof HEART_OPTIONS;

/** What yargs parsed for these flags, checked and typed. */
export function heartSettings(parsed: { [K in HeartFlag]?: string | undefined }): Partial<SuperviseOptions> {
  const settings: Partial<SuperviseOptions> = {
    hangSignal: cliSignal('--hang-signal', parsed['hang-signal'] ?? DEFAULTS.hangSignal),
    notifyFd: cliNotifyFd('--notify-fd', parsed['notify-fd'] ?? String(DEFAULTS.notifyFd)),
  };
  if (parsed.heartbeat !== undefined) settings.heartbeat = cliPositiveDuration('--heartbeat', parsed.heartbeat);
  if (parsed['heartbeat-grace'] !== undefined) {
    if (parsed.heartbeat === undefined) throw new UsageError('--heartbeat-grace needs --heartbeat: there is no first heartbeat to wait for');
    settings.heartbeatGrace = cliDuration('--heartbeat-grace', parsed['heartbeat-grace']);
  }

  const url = parsed['health-url'];
  const command = parsed['health-cmd'];
  const tuning = (['health-interval', 'health-timeout', 'health-retries', 'health-start-period'] as const).filter((flag) => parsed[flag] !== undefined);
  if (url === undefined && command === undefined) {
    if (tuning[0] !== undefined) throw new UsageError(`--${tuning[0]} needs --health-url or --health-cmd`);
    return settings;
  }
  if (url !== undefined && command !== undefined) throw new UsageError('--health-url and --health-cmd cannot be used together; choose one');
  if (url !== undefined) settings.healthUrl = cliHttpUrl('--health-url', url);
  if (command !== undefined) {
    if (command.trim() === '') throw new UsageError('--health-cmd "": expected a shell command, such as "curl -fs localhost:8080"');
    settings.healthCmd = command;
  }
  const interval = parsed['health-interval'];
  const timeout = parsed['health-timeout'];
  const retries = parsed['health-retries'];
  const startPeriod = parsed['health-start-period'];
  if (interval !== undefined) settings.healthInterval = cliPositiveDuration('--health-interval', interval);
  if (timeout !== undefined) settings.healthTimeout = cliPositiveDuration('--health-timeout', timeout);
  if (retries !== undefined) settings.healthRetries = cliRetries('--health-retries', retries);
  if (startPeriod !== undefined) settings.healthStartPeriod = cliDuration('--health-start-period', startPeriod);
  return settings;
}
