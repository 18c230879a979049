// Every option once: its key (the API's name), its flag, its default, how the command line reads
// its text, what its value must be, and what --help says. resolveOptions() checks values against
// it, cli-options.ts reads flags with it and --help is printed from it: a default lives here and
// nowhere else.
import { MAX_DURATION_MS } from './core/duration.js';

/**
 * How the command line turns the text of a flag into a value (the value is then checked like any
 * other).
 */
type Reader = 'duration' | 'size' | 'number' | 'signal' | 'word' | 'codes' | 'text' | 'switch';

/**
 * What a value must be. Each rule is one sentence of what is accepted, for the API and the CLI
 * alike.
 */
/**
 * A name goes into every log line and into FILE.state, which must always read back: it is bounded.
 */
export const MAX_NAME_LENGTH = 256;

export type Rule =
  | 'duration'
  | 'positive-duration'
  | 'count'
  | 'retries'
  | 'fd'
  | 'signal'
  | 'signals'
  | 'exit-codes'
  | 'restart-mode'
  | 'log-format'
  | 'notify-access'
  | 'url'
  | 'command'
  | 'hook'
  | 'size'
  | 'path'
  | 'text'
  | 'name'
  | 'words'
  | 'environment'
  | 'boolean'
  | 'account'
  | 'depends-on'
  | 'output-format';

export interface OptionSpec {
  /** The long flag, without its dashes; absent for options only the API has. */
  flag?: string;
  alias?: string;
  group?: string;
  describe?: string;
  read?: Reader;
  rule: Rule;
  /** The value resolveOptions() fills in when none is given. */
  default?: unknown;
  /** What --help shows as the default when it is not the value itself. */
  defaultText?: string;
  /** Allowed only together with one of these option keys. */
  needs?: readonly string[];
  /** Why, in words, when `needs` is not met. */
  needsWhy?: string;
  /**
   * Where the option lives. `process` (the default): each process has its own value, a key of a
   * process (or a default at the config file's top level) and, with a flag, the single command's.
   * `set`: a process's key in a config file only. `keepalive`: one value for the whole keepalive,
   * a flag only.
   */
  scope?: 'process' | 'set' | 'keepalive';
  /** Its key in a config file, where that is not its flag (`command`, `env`); false: none. */
  key?: string | false;
}

const RESTARTING = 'Restarting:';
const STOPPING = 'Stopping:';
const HEARTBEAT = 'Heartbeat:';
const HEALTH = 'Health check:';
const OUTPUT = 'Output:';
const EXIT_AND_MEMORY = 'On exit, and memory:';
const GUARDIAN = 'Single instance (cron):';
const OTHER = 'Other:';
const SEVERAL = 'Several processes:';
const RUN_AS = 'Running as:';
const HEALTH_CHECK = ['healthUrl', 'healthCmd'] as const;

export const OPTIONS = {
  // In a config file, `command` is an argv list, or a string run by `sh -c` (set/config.ts).
  command: {
    rule: 'text',
    key: 'command',
    describe: 'the command: an argv list, or a string run by `sh -c`',
  },
  args: { rule: 'words', default: [], key: false },
  cwd: {
    rule: 'path',
    key: 'cwd',
    describe: "the directory it runs in (relative: from the file's directory)",
  },
  env: {
    rule: 'environment',
    key: 'env',
    describe: "variables added to keepalive's environment (the top level's, then its own)",
  },
  handleSignals: { rule: 'boolean', default: false, key: false },
  restart: {
    flag: 'restart',
    group: RESTARTING,
    describe: 'always | on-failure | never',
    read: 'word',
    rule: 'restart-mode',
    default: 'always',
  },
  successCodes: {
    flag: 'success-codes',
    group: RESTARTING,
    describe:
      'exit codes and signals that are a clean end, e.g. 0,3,SIGTERM: on-failure ends there; ' +
      'always restarts, counting no failure',
    read: 'codes',
    rule: 'exit-codes',
    default: [0],
  },
  /** Read from --success-codes with the codes. */
  successSignals: { rule: 'signals', default: [], key: false },
  delay: {
    flag: 'delay',
    group: RESTARTING,
    describe: 'first delay before a restart; doubles per consecutive failure',
    read: 'duration',
    rule: 'duration',
    default: 100,
  },
  maxDelay: {
    flag: 'max-delay',
    group: RESTARTING,
    describe: 'longest delay between restarts (at least --delay)',
    read: 'duration',
    rule: 'duration',
    default: 30_000,
  },
  resetAfter: {
    flag: 'reset-after',
    group: RESTARTING,
    describe: 'uptime after which the delay starts over',
    read: 'duration',
    rule: 'duration',
    default: 30_000,
  },
  maxRestarts: {
    flag: 'max-restarts',
    group: RESTARTING,
    describe: 'restarts allowed within --restart-window before giving up',
    read: 'number',
    rule: 'count',
    default: Number.POSITIVE_INFINITY,
    defaultText: 'unlimited',
  },
  restartWindow: {
    flag: 'restart-window',
    group: RESTARTING,
    describe: 'sliding window for --max-restarts',
    read: 'duration',
    rule: 'duration',
    default: 60_000,
  },
  killTimeout: {
    flag: 'kill-timeout',
    group: STOPPING,
    describe: 'time between the stop signal and SIGKILL',
    read: 'duration',
    rule: 'duration',
    default: 8_000,
  },
  stopSignal: {
    flag: 'stop-signal',
    group: STOPPING,
    describe: 'signal keepalive sends when it stops or restarts the child',
    read: 'signal',
    rule: 'signal',
    default: 'SIGTERM',
  },
  // The API leaves an embedding program's process alone; the CLI turns it on (cli-options.ts).
  subreaper: {
    flag: 'subreaper',
    group: STOPPING,
    describe:
      "the child's orphans come back to keepalive, which stops them with the child and reaps " +
      "them (the CLI's default on Linux)",
    read: 'switch',
    rule: 'boolean',
    default: false,
    scope: 'keepalive',
  },
  noSubreaper: {
    flag: 'no-subreaper',
    group: STOPPING,
    describe:
      "leave the child's orphans to init: a stop reaches what still descends from the child or " +
      'shares its process group',
    read: 'switch',
    rule: 'boolean',
    default: false,
    scope: 'keepalive',
  },
  user: {
    flag: 'user',
    group: RUN_AS,
    describe:
      'run the command as USER (a name or uid): its uid, gid and groups, HOME, USER and LOGNAME ' +
      'from the password database; keepalive must be root',
    read: 'text',
    rule: 'account',
  },
  // Without --user: keepalive's own user, in another group.
  group: {
    flag: 'group',
    group: RUN_AS,
    describe: "the command's group (a name or gid) instead of the user's own",
    read: 'text',
    rule: 'account',
  },
  waitReady: {
    flag: 'wait-ready',
    group: HEARTBEAT,
    describe:
      'the command says READY=1 when it is ready (notify socket or KEEPALIVE_NOTIFY_FD); until ' +
      'then it is starting, not ready',
    read: 'switch',
    rule: 'boolean',
    default: false,
  },
  heartbeat: {
    flag: 'heartbeat',
    group: HEARTBEAT,
    describe: 'turn the watchdog on: the child is hung when no heartbeat arrives for this long',
    read: 'duration',
    rule: 'positive-duration',
  },
  heartbeatGrace: {
    flag: 'heartbeat-grace',
    group: HEARTBEAT,
    describe: 'time allowed for the first heartbeat',
    read: 'duration',
    rule: 'duration',
    defaultText: '--heartbeat',
    needs: ['heartbeat'],
    needsWhy: 'there is no first heartbeat to wait for',
  },
  hangSignal: {
    flag: 'hang-signal',
    group: HEARTBEAT,
    describe:
      'signal for a hung child, SIGKILL after --kill-timeout; SIGABRT or SIGQUIT for a core or ' +
      'thread dump',
    read: 'signal',
    rule: 'signal',
    default: 'SIGKILL',
  },
  // The API's `none` leaves an embedding program's threadpool whole (the socket's poll holds a
  // thread); the CLI's is all (cli-options.ts).
  notifyAccess: {
    flag: 'notify-access',
    group: HEARTBEAT,
    describe:
      "who may send to $NOTIFY_SOCKET: all (the child's process tree), main (the child itself), " +
      'none',
    read: 'word',
    rule: 'notify-access',
    default: 'none',
    defaultText: 'all',
  },
  notifyFd: {
    flag: 'notify-fd',
    group: HEARTBEAT,
    describe: 'file descriptor of the notify channel in the child (KEEPALIVE_NOTIFY_FD)',
    read: 'number',
    rule: 'fd',
    default: 3,
  },
  healthUrl: {
    flag: 'health-url',
    group: HEALTH,
    describe: 'probe by HTTP GET: 2xx is healthy',
    read: 'text',
    rule: 'url',
  },
  healthCmd: {
    flag: 'health-cmd',
    group: HEALTH,
    describe: 'probe by a shell command: exit code 0 is healthy',
    read: 'text',
    rule: 'command',
  },
  // Docker's HEALTHCHECK defaults.
  healthInterval: {
    flag: 'health-interval',
    group: HEALTH,
    describe: 'time between probes',
    read: 'duration',
    rule: 'positive-duration',
    default: 30_000,
    needs: HEALTH_CHECK,
  },
  healthTimeout: {
    flag: 'health-timeout',
    group: HEALTH,
    describe: 'a probe taking longer has failed',
    read: 'duration',
    rule: 'positive-duration',
    default: 30_000,
    needs: HEALTH_CHECK,
  },
  healthRetries: {
    flag: 'health-retries',
    group: HEALTH,
    describe: 'failures in a row that make the child unhealthy: stop signal, then restart',
    read: 'number',
    rule: 'retries',
    default: 3,
    needs: HEALTH_CHECK,
  },
  healthStartPeriod: {
    flag: 'health-start-period',
    group: HEALTH,
    describe: 'failures this soon after the start do not count',
    read: 'duration',
    rule: 'duration',
    default: 0,
    needs: HEALTH_CHECK,
  },
  onExit: {
    flag: 'on-exit',
    group: EXIT_AND_MEMORY,
    describe:
      'run `sh -c CMD` after every exit, told the outcome in KEEPALIVE_* variables; one at a ' +
      'time, never holding up a restart',
    read: 'text',
    rule: 'hook',
  },
  // Long enough for a webhook over a slow network, short enough that an end is not held up for
  // long.
  onExitTimeout: {
    flag: 'on-exit-timeout',
    group: EXIT_AND_MEMORY,
    describe: 'a hook still running this long is killed with its process group',
    read: 'duration',
    rule: 'positive-duration',
    default: 10_000,
    needs: ['onExit'],
  },
  maxMemory: {
    flag: 'max-memory',
    group: EXIT_AND_MEMORY,
    describe:
      "stop and restart the child when its whole tree's memory (RSS) is over SIZE, e.g. 512MB, " +
      '1.5GB, 800MiB',
    read: 'size',
    rule: 'size',
  },
  memoryInterval: {
    flag: 'memory-interval',
    group: EXIT_AND_MEMORY,
    describe: 'time between memory checks',
    read: 'duration',
    rule: 'positive-duration',
    default: 1_000,
    needs: ['maxMemory'],
  },
  name: {
    flag: 'name',
    group: OUTPUT,
    describe: 'name in log lines',
    read: 'text',
    rule: 'name',
    defaultText: 'the script or program name',
  },
  output: {
    flag: 'output',
    group: OUTPUT,
    describe:
      "append the command's stdout and stderr lines to FILE, rotated (without it they are " +
      "keepalive's own stdout and stderr)",
    read: 'text',
    rule: 'path',
  },
  outputStderr: {
    flag: 'output-stderr',
    group: OUTPUT,
    describe: "the command's stderr lines to FILE instead, rotated the same way",
    read: 'text',
    rule: 'path',
    needs: ['output'],
  },
  outputMaxSize: {
    flag: 'output-max-size',
    group: OUTPUT,
    describe: 'rotate FILE (FILE -> FILE.1 ...) before a line would take it past SIZE',
    read: 'size',
    rule: 'size',
    default: 10_000_000,
    defaultText: '10MB',
    needs: ['output'],
  },
  outputKeep: {
    flag: 'output-keep',
    group: OUTPUT,
    describe: 'rotated files kept (FILE.1 to FILE.N)',
    read: 'number',
    rule: 'count',
    default: 5,
    needs: ['output'],
  },
  outputMaxAge: {
    flag: 'output-max-age',
    group: OUTPUT,
    describe: 'remove rotated files older than this',
    read: 'duration',
    rule: 'positive-duration',
    needs: ['output'],
  },
  outputCompress: {
    flag: 'output-compress',
    group: OUTPUT,
    describe: 'gzip rotated files (FILE.1.gz), in the background',
    read: 'switch',
    rule: 'boolean',
    default: false,
    needs: ['output'],
  },
  timestamps: {
    flag: 'timestamps',
    group: OUTPUT,
    describe: 'begin each line of --output with its time (RFC 3339, milliseconds, UTC)',
    read: 'switch',
    rule: 'boolean',
    default: false,
    needs: ['output'],
  },
  outputFormat: {
    flag: 'output-format',
    group: OUTPUT,
    describe: 'text (the lines as written) | json ({"time","stream","line"} a line)',
    read: 'word',
    rule: 'output-format',
    default: 'text',
    needs: ['output'],
  },
  outputLossless: {
    flag: 'output-lossless',
    group: OUTPUT,
    describe:
      'when FILE cannot keep up, make the command wait instead of dropping lines (and counting them)',
    read: 'switch',
    rule: 'boolean',
    default: false,
    needs: ['output'],
  },
  logFormat: {
    flag: 'log-format',
    group: OUTPUT,
    describe: 'text | json',
    read: 'word',
    rule: 'log-format',
    default: 'text',
    scope: 'keepalive',
  },
  logFile: {
    flag: 'log-file',
    group: OUTPUT,
    describe:
      "append keepalive's own lines to FILE instead of stderr (with --detach, the command's " +
      'output too)',
    read: 'text',
    rule: 'path',
    scope: 'keepalive',
  },
  logFileShared: {
    flag: 'log-file-shared',
    group: OUTPUT,
    describe:
      'write --log-file even if another user owns it or others can write it (refused otherwise)',
    read: 'switch',
    rule: 'boolean',
    default: false,
    needs: ['logFile'],
    scope: 'keepalive',
  },
  quiet: {
    flag: 'quiet',
    alias: 'q',
    group: OUTPUT,
    describe: 'only errors',
    read: 'switch',
    rule: 'boolean',
    default: false,
    scope: 'keepalive',
  },
  verbose: {
    flag: 'verbose',
    alias: 'v',
    group: OUTPUT,
    describe: 'also forwarded signals, reaped orphans, STATUS= texts and other details',
    read: 'switch',
    rule: 'boolean',
    default: false,
    scope: 'keepalive',
  },
  config: {
    flag: 'config',
    alias: 'c',
    group: SEVERAL,
    describe: 'run the processes described in FILE (YAML), in dependency order',
    read: 'text',
    rule: 'path',
    scope: 'keepalive',
  },
  procfile: {
    flag: 'procfile',
    group: SEVERAL,
    describe: 'run a Procfile (`name: command` per line, each through `sh -c`)',
    read: 'text',
    rule: 'path',
    scope: 'keepalive',
  },
  check: {
    flag: 'check',
    group: SEVERAL,
    describe: 'check FILE and print the start order, without starting anything',
    read: 'switch',
    rule: 'boolean',
    default: false,
    scope: 'keepalive',
    needs: ['config', 'procfile'],
  },
  dependsOn: {
    describe:
      'the processes it waits for before it starts, each with started, ready, healthy or ' +
      'completed (or { condition, restart: true } to be restarted with it)',
    rule: 'depends-on',
    scope: 'set',
    key: 'depends-on',
  },
  essential: {
    describe: 'when it ends for good, keepalive stops the rest and exits with its status',
    rule: 'boolean',
    default: false,
    scope: 'set',
    key: 'essential',
  },
  readyTimeout: {
    describe: "how long it waits for its dependencies' conditions before its start fails",
    rule: 'positive-duration',
    default: 60_000,
    scope: 'set',
    key: 'ready-timeout',
  },
  pidfile: {
    flag: 'pidfile',
    group: GUARDIAN,
    describe: 'be the one keepalive for FILE; a later one exits 0 (silent unless on a terminal)',
    read: 'text',
    rule: 'path',
    scope: 'keepalive',
  },
  detach: {
    flag: 'detach',
    group: GUARDIAN,
    describe: 'go on in the background (needs --pidfile); return once the command has started',
    read: 'switch',
    rule: 'boolean',
    default: false,
    needs: ['pidfile'],
    needsWhy: 'without it nothing could find or stop the keepalive in the background',
    scope: 'keepalive',
  },
  help: {
    flag: 'help',
    alias: 'h',
    group: OTHER,
    describe: 'show this page',
    read: 'switch',
    rule: 'boolean',
    default: false,
    scope: 'keepalive',
  },
  version: {
    flag: 'version',
    group: OTHER,
    describe: 'show the version',
    read: 'switch',
    rule: 'boolean',
    default: false,
    scope: 'keepalive',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

/** Pairs that exclude each other. */
export const CONFLICTS: ReadonlyArray<readonly [OptionKey, OptionKey]> = [
  ['healthUrl', 'healthCmd'],
  ['quiet', 'verbose'],
];

/** [low, high]: when both are given, high must not be below low. */
export const ORDERED: ReadonlyArray<readonly [OptionKey, OptionKey]> = [['delay', 'maxDelay']];

/** File descriptors the notify channel may use: 0-2 are the child's stdio. */
export const NOTIFY_FD_RANGE = { min: 3, max: 255 } as const;

export const RESTART_MODES = ['always', 'on-failure', 'never'] as const;

/** What a process waits for in another before it starts (`depends-on`). */
export const CONDITIONS = ['started', 'ready', 'healthy', 'completed'] as const;

/** systemd's NotifyAccess= words (exec is systemd's own: there is no ExecStartPre here). */
export const NOTIFY_ACCESS = ['all', 'main', 'none'] as const;

/**
 * What each rule accepts, in words, and an example where one helps (the CLI shows it after "such
 * as").
 */
export const RULE_WORDS: Record<Rule, { expected: string; example?: string }> = {
  duration: {
    expected:
      `a duration from 0 to ${MAX_DURATION_MS} ms (about 24.8 days, what Node's timers ` +
      `can wait for)`,
  },
  'positive-duration': { expected: 'a duration above 0', example: '5s' },
  count: { expected: 'a whole number of 0 or more', example: '5' },
  retries: { expected: 'a whole number of 1 or more', example: '3' },
  fd: {
    expected:
      `a file descriptor from ${NOTIFY_FD_RANGE.min} to ${NOTIFY_FD_RANGE.max} (0-2 are ` +
      `the child's stdin, stdout and stderr)`,
  },
  signal: { expected: 'a signal name or number', example: 'SIGTERM, TERM or 15' },
  signals: { expected: 'a list of signal names', example: "['SIGTERM']" },
  'exit-codes': { expected: 'exit codes from 0 to 255', example: '0,3,SIGTERM' },
  'restart-mode': { expected: `one of ${RESTART_MODES.join(', ')}` },
  'log-format': { expected: 'text or json' },
  'notify-access': { expected: `one of ${NOTIFY_ACCESS.join(', ')}` },
  url: { expected: 'an http:// or https:// URL', example: 'http://localhost:8080/health' },
  command: { expected: 'a shell command', example: '"curl -fs localhost:8080"' },
  hook: { expected: 'a shell command (or, from the API, a function)', example: '"./notify.sh"' },
  // The CLI reads units (core/size.ts) before this rule sees a number: only the API meets these
  // words.
  size: { expected: 'a whole number of bytes above 0', example: '512e6' },
  path: { expected: 'a file path (in UTF-8)' },
  text: { expected: 'a text' },
  name: { expected: `a name of 1 to ${MAX_NAME_LENGTH} characters` },
  words: { expected: 'a list of strings (or Buffers, passed as those bytes)' },
  environment: { expected: 'an object of environment variables' },
  boolean: { expected: 'true or false' },
  account: { expected: 'a user or group name, or a number', example: 'www-data or 33' },
  'output-format': { expected: 'text or json' },
  'depends-on': {
    expected: `process names, each with one of ${CONDITIONS.join(', ')}, or { condition, restart: true }`,
    example: '{ db: healthy }',
  },
};
