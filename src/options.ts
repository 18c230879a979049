// Options: the one place that checks them and fills in their defaults (both from option-table.ts).
// A problem names the option by its key; the CLI says the same problem with the flag as typed.
import type { HealthCheck } from './core/health.js';
import type { OnExitFunction } from './core/hook-env.js';
import type { NotifyAccess } from './core/notify-access.js';
import type { PolicyConfig, RestartMode } from './core/policy.js';
import type { SignalName } from './core/signals.js';
import type { FileOutputSettings, OutputTarget } from './output/types.js';
import {
  CONFLICTS,
  OPTIONS,
  ORDERED,
  RULE_WORDS,
  type OptionKey,
  type OptionSpec,
} from './option-table.js';
import { checkValue } from './option-rules.js';
import { isProblem, resolveAccount, type Account } from './spawn/account.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'quiet' | 'normal' | 'verbose';

/**
 * What a caller of supervise() may set; every field but `command` has a default (see
 * option-table.ts).
 */
export interface SuperviseOptions {
  command: string;
  /** Buffers are passed as those bytes (an argument that is not UTF-8). */
  args?: ReadonlyArray<string | Buffer>;
  /** The name in log lines; defaults to the script or program name ("app" for `node app.js`). */
  name?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  restart?: RestartMode;
  successCodes?: readonly number[];
  successSignals?: readonly SignalName[];
  /** Milliseconds, like every duration here. */
  delay?: number;
  /** At least `delay`. */
  maxDelay?: number;
  resetAfter?: number;
  /** Restarts allowed within `restartWindow`; Infinity (the default) for no limit. */
  maxRestarts?: number;
  restartWindow?: number;
  killTimeout?: number;
  stopSignal?: SignalName;
  /** Install handlers for SIGTERM, SIGINT, SIGQUIT (stop) and forward the others. The CLI does. */
  handleSignals?: boolean;
  /**
   * Reap orphaned descendants as PID 1 would (prctl PR_SET_CHILD_SUBREAPER); automatic as PID 1.
   */
  subreaper?: boolean;
  /** Turns the watchdog on: the child is hung when no heartbeat arrives for this long. */
  heartbeat?: number;
  /** The time allowed for the first heartbeat; defaults to `heartbeat`. */
  heartbeatGrace?: number;
  /** What a hung child is sent (SIGKILL after `killTimeout` if it is still there). */
  hangSignal?: SignalName;
  /** The file descriptor of the notify channel in the child. */
  notifyFd?: number;
  /**
   * Who may send to $NOTIFY_SOCKET: the child's process tree (`all`), the child itself (`main`),
   * nobody.
   */
  notifyAccess?: NotifyAccess;
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
  /**
   * After every exit: a shell command (`sh -c`, told the outcome in KEEPALIVE_* variables) or a
   * function (awaited). One at a time; exits meanwhile are coalesced into the next call.
   */
  onExit?: string | OnExitFunction;
  /**
   * A hook running longer is killed (a command, with its process group) or no longer waited for.
   */
  onExitTimeout?: number;
  /**
   * Bytes: over it, the whole tree's memory gets the child stopped and restarted (`over-memory`).
   */
  maxMemory?: number;
  memoryInterval?: number;
  /** Run the command as this user (name or uid); keepalive must be root. */
  user?: string | number;
  /** The command's group (name or gid) instead of the user's own. */
  group?: string | number;
  /** The command says READY=1 when it is ready; until then it is starting, not ready. */
  waitReady?: boolean;
  /** Append the child's stdout and stderr lines to this file (rotated), instead of passing them. */
  output?: string;
  /** The child's stderr lines to this file instead of `output`'s. */
  outputStderr?: string;
  /** Bytes: FILE is rotated before a line would take it past this. */
  outputMaxSize?: number;
  /** Rotated files kept. */
  outputKeep?: number;
  /** Rotated files older than this are removed. */
  outputMaxAge?: number;
  /** Rotated files are gzipped, in the background. */
  outputCompress?: boolean;
  /** Each line of the output file begins with its time (RFC 3339 with milliseconds). */
  timestamps?: boolean;
  /** `json`: each line as {"time","stream","line"}. */
  outputFormat?: 'text' | 'json';
  /** When the file cannot keep up, the child waits instead of lines being dropped. */
  outputLossless?: boolean;
}

type OutputOption =
  | 'output'
  | 'outputStderr'
  | 'outputMaxSize'
  | 'outputKeep'
  | 'outputMaxAge'
  | 'outputCompress'
  | 'timestamps'
  | 'outputFormat'
  | 'outputLossless';

// Every API option has its row in option-table.ts, so that none skips its check or its default.
true satisfies Exclude<keyof SuperviseOptions, OptionKey> extends never ? true : never;

type HeartOption =
  | 'heartbeat'
  | 'heartbeatGrace'
  | 'hangSignal'
  | 'notifyFd'
  | 'notifyAccess'
  | 'healthUrl'
  | 'healthCmd'
  | 'healthInterval'
  | 'healthTimeout'
  | 'healthRetries'
  | 'healthStartPeriod';

export interface ResolvedOptions extends Required<
  Omit<
    SuperviseOptions,
    'cwd' | HeartOption | 'onExit' | 'maxMemory' | 'user' | 'group' | OutputOption
  >
> {
  cwd: string | undefined;
  user: string | number | undefined;
  group: string | number | undefined;
  /** Who the command, its health command and its hook run as; undefined: keepalive's user. */
  account: Account | undefined;
  onExit: string | OnExitFunction | undefined;
  maxMemory: number | undefined;
  policy: PolicyConfig;
  heart: HeartOptions;
  /** Where the child's stdout and stderr go (a set's engine sets it); unset: keepalive's own. */
  output?: OutputTarget | undefined;
  /** --output FILE and its options: the supervisor makes a file target of them (it wins). */
  outputFile: FileOutputSettings | undefined;
}

/** The watchdog and the health check, as the supervisor's heart module takes them. */
export interface HeartOptions {
  /** Undefined: the watchdog is off (the child may still turn it on with WATCHDOG_USEC). */
  heartbeat: number | undefined;
  heartbeatGrace: number;
  hangSignal: SignalName;
  notifyFd: number;
  notifyAccess: NotifyAccess;
  health: HealthCheck | undefined;
}

/** The defaults of the API's options, as option-table.ts has them. */
export const DEFAULTS = {
  restart: OPTIONS.restart.default,
  successCodes: OPTIONS.successCodes.default,
  successSignals: OPTIONS.successSignals.default,
  delay: OPTIONS.delay.default,
  maxDelay: OPTIONS.maxDelay.default,
  resetAfter: OPTIONS.resetAfter.default,
  maxRestarts: OPTIONS.maxRestarts.default,
  restartWindow: OPTIONS.restartWindow.default,
  killTimeout: OPTIONS.killTimeout.default,
  stopSignal: OPTIONS.stopSignal.default,
  hangSignal: OPTIONS.hangSignal.default,
  notifyFd: OPTIONS.notifyFd.default,
  notifyAccess: OPTIONS.notifyAccess.default as NotifyAccess,
  healthInterval: OPTIONS.healthInterval.default,
  healthTimeout: OPTIONS.healthTimeout.default,
  healthRetries: OPTIONS.healthRetries.default,
  healthStartPeriod: OPTIONS.healthStartPeriod.default,
  onExitTimeout: OPTIONS.onExitTimeout.default,
  memoryInterval: OPTIONS.memoryInterval.default,
} as const;

/** The backoff's ±10%: not an option. */
const JITTER = 0.1;

/** A mistake in how keepalive was called: one line for the user, and status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitStatus = 2;
}

/**
 * What is wrong, by option key: the API says it with keys, the CLI with flags and the text as
 * typed.
 */
type Problem =
  | { kind: 'value'; key: OptionKey; value: unknown }
  | { kind: 'needs'; key: OptionKey; needs: readonly OptionKey[]; why: string | undefined }
  | { kind: 'conflict'; keys: readonly [OptionKey, OptionKey] }
  | { kind: 'order'; low: OptionKey; high: OptionKey; values: readonly [unknown, unknown] }
  /** A value of the right form that this system cannot honour (an unknown user, say). */
  | { kind: 'refused'; key: OptionKey; value: unknown; why: string };

export class OptionError extends UsageError {
  constructor(readonly problem: Problem) {
    super(
      problemWords(
        problem,
        (key) => key,
        (_key, value) => shown(value),
      ),
    );
  }
}

/**
 * One line for a problem; `name` and `value` say an option and a value the way the reader typed
 * them.
 */
export function problemWords(
  problem: Problem,
  name: (key: OptionKey) => string,
  value: (key: OptionKey, value: unknown) => string,
): string {
  switch (problem.kind) {
    case 'value': {
      const spec: OptionSpec = OPTIONS[problem.key];
      const { expected } = RULE_WORDS[spec.rule];
      return (
        `${name(problem.key)}: ${value(problem.key, problem.value)} is not allowed; use ` +
        `${expected}`
      );
    }
    case 'needs': {
      const why = problem.why === undefined ? '' : `: ${problem.why}`;
      return `${name(problem.key)} needs ${problem.needs.map(name).join(' or ')}${why}`;
    }
    case 'conflict':
      return `${problem.keys.map(name).join(' and ')} cannot be used together; choose one`;
    case 'refused':
      return `${name(problem.key)} ${value(problem.key, problem.value)}: ${problem.why}`;
    case 'order': {
      const [low, high] = problem.values;
      return (
        `${name(problem.high)} ${value(problem.high, high)} is shorter than ` +
        `${name(problem.low)} ${value(problem.low, low)}; make ${name(problem.high)} at least ` +
        `${name(problem.low)}`
      );
    }
  }
}

function shown(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value)
    : Array.isArray(value)
      ? JSON.stringify(value)
      : String(value);
}

/**
 * Checks what was given, against the table: each value, then what needs what, what excludes
 * what and what must not be below what. Only given keys count: a default needs nothing.
 */
export function checkOptions(given: Partial<Record<OptionKey, unknown>>): void {
  const keys = (Object.keys(given) as OptionKey[]).filter(
    (key) => key in OPTIONS && given[key] !== undefined,
  );
  for (const key of keys) {
    if (!checkValue(OPTIONS[key].rule, given[key]))
      throw new OptionError({ kind: 'value', key, value: given[key] });
  }
  for (const key of keys) {
    const spec: OptionSpec = OPTIONS[key];
    const needs = spec.needs as readonly OptionKey[] | undefined;
    if (needs && given[key] !== false && !needs.some((other) => given[other] !== undefined)) {
      throw new OptionError({ kind: 'needs', key, needs, why: spec.needsWhy });
    }
  }
  for (const [a, b] of CONFLICTS) {
    if (isSet(given[a]) && isSet(given[b]))
      throw new OptionError({ kind: 'conflict', keys: [a, b] });
  }
  for (const [low, high] of ORDERED) {
    const [lowValue, highValue] = [given[low], given[high]];
    if (typeof lowValue === 'number' && typeof highValue === 'number' && highValue < lowValue) {
      throw new OptionError({ kind: 'order', low, high, values: [lowValue, highValue] });
    }
  }
}

/** A switch that is off is as good as not given. */
function isSet(value: unknown): boolean {
  return value !== undefined && value !== false;
}

export function resolveOptions(options: SuperviseOptions): ResolvedOptions {
  if (typeof options.command !== 'string' || options.command.length === 0) {
    throw new UsageError('no command given: usage: keepalive [options] [--] <command> [args...]');
  }
  checkOptions(options as unknown as Partial<Record<OptionKey, unknown>>);
  const args = options.args ?? OPTIONS.args.default;
  const delay = options.delay ?? DEFAULTS.delay;
  // Only --delay given, above the default --max-delay: the delay stays constant rather than shrink.
  const maxDelay = options.maxDelay ?? Math.max(DEFAULTS.maxDelay, delay);
  const resolved = {
    command: options.command,
    args,
    name: options.name ?? defaultName(options.command, args.map(String)),
    cwd: options.cwd,
    env: options.env ?? process.env,
    restart: options.restart ?? DEFAULTS.restart,
    successCodes: options.successCodes ?? DEFAULTS.successCodes,
    successSignals: options.successSignals ?? DEFAULTS.successSignals,
    delay,
    maxDelay,
    resetAfter: options.resetAfter ?? DEFAULTS.resetAfter,
    maxRestarts: options.maxRestarts ?? DEFAULTS.maxRestarts,
    restartWindow: options.restartWindow ?? DEFAULTS.restartWindow,
    killTimeout: options.killTimeout ?? DEFAULTS.killTimeout,
    stopSignal: options.stopSignal ?? DEFAULTS.stopSignal,
    handleSignals: options.handleSignals ?? OPTIONS.handleSignals.default,
    subreaper: options.subreaper ?? OPTIONS.subreaper.default,
    onExit: options.onExit,
    onExitTimeout: options.onExitTimeout ?? DEFAULTS.onExitTimeout,
    maxMemory: options.maxMemory,
    memoryInterval: options.memoryInterval ?? DEFAULTS.memoryInterval,
    user: options.user,
    group: options.group,
    waitReady: options.waitReady ?? OPTIONS.waitReady.default,
  };
  const account = resolveAccount(options.user, options.group);
  if (account !== undefined && isProblem(account))
    throw new OptionError({ kind: 'refused', ...account });
  return {
    ...resolved,
    account,
    outputFile: resolveOutputFile(options),
    heart: resolveHeart(options),
    policy: {
      restart: resolved.restart,
      successCodes: resolved.successCodes,
      successSignals: resolved.successSignals,
      delayMs: resolved.delay,
      maxDelayMs: resolved.maxDelay,
      jitter: JITTER,
      resetAfterMs: resolved.resetAfter,
      maxRestarts: resolved.maxRestarts,
      windowMs: resolved.restartWindow,
    },
  };
}

function resolveOutputFile(options: SuperviseOptions): FileOutputSettings | undefined {
  if (options.output === undefined) return undefined;
  return {
    path: options.output,
    stderrPath: options.outputStderr,
    maxSize: options.outputMaxSize ?? OPTIONS.outputMaxSize.default,
    keep: options.outputKeep ?? OPTIONS.outputKeep.default,
    maxAge: options.outputMaxAge,
    compress: options.outputCompress ?? OPTIONS.outputCompress.default,
    timestamps: options.timestamps ?? OPTIONS.timestamps.default,
    format: options.outputFormat ?? OPTIONS.outputFormat.default,
    lossless: options.outputLossless ?? OPTIONS.outputLossless.default,
  };
}

function resolveHeart(options: SuperviseOptions): HeartOptions {
  const { heartbeat, healthUrl, healthCmd } = options;
  const probe: HealthCheck['probe'] | undefined =
    healthUrl !== undefined
      ? { kind: 'url', url: healthUrl }
      : healthCmd !== undefined
        ? { kind: 'command', command: healthCmd }
        : undefined;
  return {
    heartbeat,
    heartbeatGrace: options.heartbeatGrace ?? heartbeat ?? 0,
    hangSignal: options.hangSignal ?? DEFAULTS.hangSignal,
    notifyFd: options.notifyFd ?? DEFAULTS.notifyFd,
    notifyAccess: options.notifyAccess ?? DEFAULTS.notifyAccess,
    health: probe && {
      probe,
      intervalMs: options.healthInterval ?? DEFAULTS.healthInterval,
      timeoutMs: options.healthTimeout ?? DEFAULTS.healthTimeout,
      retries: options.healthRetries ?? DEFAULTS.healthRetries,
      startPeriodMs: options.healthStartPeriod ?? DEFAULTS.healthStartPeriod,
    },
  };
}

const INTERPRETERS = new Set([
  'node',
  'nodejs',
  'deno',
  'bun',
  'python',
  'python3',
  'ruby',
  'perl',
  'sh',
  'bash',
  'php',
]);

/** Options after which an interpreter runs code from the command line rather than a script file. */
const INLINE_CODE_FLAGS = new Set(['-c', '-e', '--eval', '-p', '--print']);

/**
 * "app" for `node app.js`, "worker" for `./worker.sh`, "sh" for `sh -c '...'`, "nginx" for
 * `/usr/sbin/nginx`.
 */
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
