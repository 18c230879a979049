// Options: their defaults, and the checks that turn what a user typed into typed values.
// Every message names the option as typed, the bad value and what is accepted.
import { MAX_DURATION_MS, parseDuration } from './core/duration.js';
import type { HealthCheck } from './core/health.js';
import type { PolicyConfig, RestartMode } from './core/policy.js';
import { parseSignal, type SignalName } from './core/signals.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'quiet' | 'normal' | 'verbose';

/** What a caller of supervise() may set; every field but `command` has a default. */
export interface SuperviseOptions {
  command: string;
  args?: readonly string[];
  /** The name in log lines; defaults to the script or program name ("app" for `node app.js`). */
  name?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  restart?: RestartMode;
  successCodes?: readonly number[];
  successSignals?: readonly SignalName[];
  /** Milliseconds, like every duration here. */
  delay?: number;
  maxDelay?: number;
  resetAfter?: number;
  /** Restarts allowed within `restartWindow`; Infinity (the default) for no limit. */
  maxRestarts?: number;
  restartWindow?: number;
  killTimeout?: number;
  stopSignal?: SignalName;
  /** Install handlers for SIGTERM, SIGINT, SIGQUIT (stop) and forward the others. The CLI does. */
  handleSignals?: boolean;
  /** Reap orphaned descendants as PID 1 would (prctl PR_SET_CHILD_SUBREAPER); automatic as PID 1. */
  subreaper?: boolean;
  /** Turns the watchdog on: the child is hung when no heartbeat arrives for this long. */
  heartbeat?: number;
  /** The time allowed for the first heartbeat; defaults to `heartbeat`. */
  heartbeatGrace?: number;
  /** What a hung child is sent (SIGKILL after `killTimeout` if it is still there). */
  hangSignal?: SignalName;
  /** The file descriptor of the notify channel in the child. */
  notifyFd?: number;
  /** Health check by HTTP GET: a 2xx answer is healthy. */
  healthUrl?: string;
  /** Health check by a shell command (`sh -c`): exit code 0 is healthy. */
  healthCmd?: string;
  healthInterval?: number;
  healthTimeout?: number;
  /** Failures in a row that make the child unhealthy. */
  healthRetries?: number;
  /** Failures within this time after the start do not count. */
  healthStartPeriod?: number;
}

type HeartOption =
  | 'heartbeat'
  | 'heartbeatGrace'
  | 'hangSignal'
  | 'notifyFd'
  | 'healthUrl'
  | 'healthCmd'
  | 'healthInterval'
  | 'healthTimeout'
  | 'healthRetries'
  | 'healthStartPeriod';

export interface ResolvedOptions extends Required<Omit<SuperviseOptions, 'cwd' | HeartOption>> {
  cwd: string | undefined;
  policy: PolicyConfig;
  heart: HeartOptions;
}

/** The watchdog and the health check, as the supervisor's heart module takes them. */
export interface HeartOptions {
  /** Undefined: the watchdog is off (the child may still turn it on with WATCHDOG_USEC). */
  heartbeatMs: number | undefined;
  graceMs: number;
  hangSignal: SignalName;
  notifyFd: number;
  health: HealthCheck | undefined;
}

export const DEFAULTS = {
  restart: 'always',
  successCodes: [0],
  successSignals: [],
  delay: 100,
  maxDelay: 30_000,
  resetAfter: 30_000,
  maxRestarts: Number.POSITIVE_INFINITY,
  restartWindow: 60_000,
  killTimeout: 8_000,
  stopSignal: 'SIGTERM',
  jitter: 0.1,
  hangSignal: 'SIGKILL',
  notifyFd: 3,
  // Docker's HEALTHCHECK defaults.
  healthInterval: 30_000,
  healthTimeout: 30_000,
  healthRetries: 3,
  healthStartPeriod: 0,
} as const;

/** File descriptors the notify channel may use: 0-2 are the child's stdio. */
export const NOTIFY_FD_RANGE = { min: 3, max: 255 } as const;

export const RESTART_MODES: readonly RestartMode[] = ['always', 'on-failure', 'never'];

export const MAX_NAME_LENGTH = 256;

/** A name goes into every log line and into FILE.state, which must always read back: it is bounded. */
export function cliName(flag: string, value: string): string {
  if (value.length > MAX_NAME_LENGTH) throw new UsageError(`${flag} "${value.slice(0, 20)}...": ${value.length} characters; at most ${MAX_NAME_LENGTH}`);
  return value;
}

/** A mistake in how keepalive was called: one line for the user, and status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitStatus = 2;
}

export function resolveOptions(options: SuperviseOptions): ResolvedOptions {
  if (typeof options.command !== 'string' || options.command.length === 0) {
    throw new UsageError('no command given: usage: keepalive [options] [--] <command> [args...]');
  }
  if (options.name !== undefined) cliName('--name', options.name);
  const resolved = {
    command: options.command,
    args: options.args ?? [],
    name: options.name ?? defaultName(options.command, options.args ?? []),
    cwd: options.cwd,
    env: options.env ?? process.env,
    restart: options.restart ?? DEFAULTS.restart,
    successCodes: options.successCodes ?? DEFAULTS.successCodes,
    successSignals: options.successSignals ?? DEFAULTS.successSignals,
    delay: options.delay ?? DEFAULTS.delay,
    maxDelay: options.maxDelay ?? DEFAULTS.maxDelay,
    resetAfter: options.resetAfter ?? DEFAULTS.resetAfter,
    maxRestarts: options.maxRestarts ?? DEFAULTS.maxRestarts,
    restartWindow: options.restartWindow ?? DEFAULTS.restartWindow,
    killTimeout: options.killTimeout ?? DEFAULTS.killTimeout,
    stopSignal: options.stopSignal ?? DEFAULTS.stopSignal,
    handleSignals: options.handleSignals ?? false,
    subreaper: options.subreaper ?? false,
  };
  for (const key of ['delay', 'maxDelay', 'resetAfter', 'restartWindow', 'killTimeout'] as const) {
    requireDuration(key, resolved[key]);
  }
  requireNonNegative('maxRestarts', resolved.maxRestarts);
  if (!RESTART_MODES.includes(resolved.restart)) {
    throw new UsageError(`restart: "${String(resolved.restart)}" is not a restart policy; use always, on-failure or never`);
  }
  return {
    ...resolved,
    heart: resolveHeart(options),
    policy: {
      restart: resolved.restart,
      successCodes: resolved.successCodes,
      successSignals: resolved.successSignals,
      delayMs: resolved.delay,
      maxDelayMs: Math.max(resolved.maxDelay, resolved.delay),
      jitter: DEFAULTS.jitter,
      resetAfterMs: resolved.resetAfter,
      maxRestarts: resolved.maxRestarts,
      windowMs: resolved.restartWindow,
    },
  };
}

function resolveHeart(options: SuperviseOptions): HeartOptions {
  const { heartbeat, healthUrl, healthCmd } = options;
  if (heartbeat !== undefined) {
    requirePositive('heartbeat', heartbeat);
    requireDuration('heartbeat', heartbeat);
  }
  if (options.heartbeatGrace !== undefined) {
    if (heartbeat === undefined) throw new UsageError('heartbeatGrace: needs heartbeat');
    requireDuration('heartbeatGrace', options.heartbeatGrace);
  }
  const notifyFd = options.notifyFd ?? DEFAULTS.notifyFd;
  if (!Number.isInteger(notifyFd) || notifyFd < NOTIFY_FD_RANGE.min || notifyFd > NOTIFY_FD_RANGE.max) {
    throw new UsageError(`notifyFd: ${String(notifyFd)} is not allowed; use a whole number from ${NOTIFY_FD_RANGE.min} to ${NOTIFY_FD_RANGE.max}`);
  }
  return {
    heartbeatMs: heartbeat,
    graceMs: options.heartbeatGrace ?? heartbeat ?? 0,
    hangSignal: options.hangSignal ?? DEFAULTS.hangSignal,
    notifyFd,
    health: resolveHealth(options, healthUrl, healthCmd),
  };
}

function resolveHealth(options: SuperviseOptions, healthUrl: string | undefined, healthCmd: string | undefined): HealthCheck | undefined {
  const tuning = (['healthInterval', 'healthTimeout', 'healthRetries', 'healthStartPeriod'] as const).filter(
    (key) => options[key] !== undefined,
  );
  if (healthUrl === undefined && healthCmd === undefined) {
    if (tuning[0] !== undefined) throw new UsageError(`${tuning[0]}: needs healthUrl or healthCmd`);
    return undefined;
  }
  if (healthUrl !== undefined && healthCmd !== undefined) {
    throw new UsageError('healthUrl and healthCmd: choose one health check');
  }
  const intervalMs = options.healthInterval ?? DEFAULTS.healthInterval;
  const timeoutMs = options.healthTimeout ?? DEFAULTS.healthTimeout;
  const retries = options.healthRetries ?? DEFAULTS.healthRetries;
  const startPeriodMs = options.healthStartPeriod ?? DEFAULTS.healthStartPeriod;
  requirePositive('healthInterval', intervalMs);
  requirePositive('healthTimeout', timeoutMs);
  requireDuration('healthInterval', intervalMs);
  requireDuration('healthTimeout', timeoutMs);
  requireDuration('healthStartPeriod', startPeriodMs);
  if (!Number.isInteger(retries) || retries < 1) {
    throw new UsageError(`healthRetries: ${String(retries)} is not allowed; use a whole number of 1 or more`);
  }
  let probe: HealthCheck['probe'];
  if (healthUrl !== undefined) {
    if (!isHttpUrl(healthUrl)) throw new UsageError(`healthUrl: "${healthUrl}" is not an http:// or https:// URL`);
    probe = { kind: 'url', url: healthUrl };
  } else {
    if (typeof healthCmd !== 'string' || healthCmd.trim() === '') throw new UsageError('healthCmd: an empty command is not allowed');
    probe = { kind: 'command', command: healthCmd };
  }
  return { probe, intervalMs, timeoutMs, retries, startPeriodMs };
}

export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function requirePositive(key: string, value: number): void {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new UsageError(`${key}: ${String(value)} is not allowed; use a number above 0`);
  }
}

function requireNonNegative(key: string, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new UsageError(`${key}: ${String(value)} is not allowed; use a number of 0 or more`);
  }
}

/** A duration in milliseconds that Node's timers can wait for. */
function requireDuration(key: string, value: number): void {
  requireNonNegative(key, value);
  if (value > MAX_DURATION_MS) throw new UsageError(`${key}: ${value} is not allowed; use at most ${MAX_DURATION_MS} ms (about 24.8 days)`);
}

const INTERPRETERS = new Set(['node', 'nodejs', 'deno', 'bun', 'python', 'python3', 'ruby', 'perl', 'sh', 'bash', 'php']);

/** Options after which an interpreter runs code from the command line rather than a script file. */
const INLINE_CODE_FLAGS = new Set(['-c', '-e', '--eval', '-p', '--print']);

/** "app" for `node app.js`, "worker" for `./worker.sh`, "sh" for `sh -c '...'`, "nginx" for `/usr/sbin/nginx`. */
export function defaultName(command: string, args: readonly string[]): string {
  const program = baseName(command);
  if (!INTERPRETERS.has(program)) return stripExtension(program) || program;
  const scriptIndex = args.findIndex((arg) => !arg.startsWith('-'));
  const script = args[scriptIndex];
  const inline = args.slice(0, Math.max(scriptIndex, 0)).some((arg) => INLINE_CODE_FLAGS.has(arg));
  if (script === undefined || inline || !/^[\w./@-]+$/.test(script)) return program;
  return stripExtension(baseName(script)) || program;
}

function stripExtension(name: string): string {
  return name.replace(/\.(m?js|cjs|ts|py|rb|pl|sh|php)$/, '');
}

function baseName(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? path;
}

// ---- What the CLI hands over: strings as typed, turned into typed values or a UsageError. ----

export function cliDuration(flag: string, value: string): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new UsageError(`${flag} "${value}": expected ${parsed.expected}`);
  return parsed.value;
}

export function cliCount(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} "${value}": expected a whole number of 0 or more, such as 5`);
  return Number(value);
}

export function cliSignal(flag: string, value: string): SignalName {
  const signal = parseSignal(value);
  if (!signal) throw new UsageError(`${flag} "${value}": expected a signal name or number, such as SIGTERM, TERM or 15`);
  return signal;
}

export function cliRestartMode(flag: string, value: string): RestartMode {
  const mode = RESTART_MODES.find((candidate) => candidate === value.trim());
  if (!mode) throw new UsageError(`${flag} "${value}": expected one of ${RESTART_MODES.join(', ')}`);
  return mode;
}

/** "0,3,SIGTERM" → codes [0, 3] and signals [SIGTERM]. */
export function cliSuccessCodes(flag: string, value: string): { codes: number[]; signals: SignalName[] } {
  const codes: number[] = [];
  const signals: SignalName[] = [];
  for (const item of value.split(',').map((part) => part.trim())) {
    if (/^\d+$/.test(item) && Number(item) <= 255) {
      codes.push(Number(item));
      continue;
    }
    const signal = /^\d+$/.test(item) ? undefined : parseSignal(item);
    if (!signal) {
      throw new UsageError(
        `${flag} "${value}": "${item}" is neither an exit code (0-255) nor a signal name; use a list such as 0,3,SIGTERM`,
      );
    }
    signals.push(signal);
  }
  return { codes, signals };
}

export function cliPath(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw new UsageError(`${flag} "${value}": expected a file path`);
  return value;
}

/** A duration that must not be zero (a heartbeat timeout, a probe interval). */
export function cliPositiveDuration(flag: string, value: string): number {
  const duration = cliDuration(flag, value);
  if (duration === 0) throw new UsageError(`${flag} "${value}": expected a duration above 0, such as 5s`);
  return duration;
}

export function cliNotifyFd(flag: string, value: string): number {
  const fd = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(fd >= NOTIFY_FD_RANGE.min && fd <= NOTIFY_FD_RANGE.max)) {
    throw new UsageError(
      `${flag} "${value}": expected a file descriptor from ${NOTIFY_FD_RANGE.min} to ${NOTIFY_FD_RANGE.max} (0-2 are the child's stdin, stdout and stderr)`,
    );
  }
  return fd;
}

export function cliRetries(flag: string, value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) {
    throw new UsageError(`${flag} "${value}": expected a whole number of 1 or more, such as 3`);
  }
  return Number(value);
}

export function cliHttpUrl(flag: string, value: string): string {
  if (!isHttpUrl(value)) throw new UsageError(`${flag} "${value}": expected an http:// or https:// URL, such as http://localhost:8080/health`);
  return value;
}
