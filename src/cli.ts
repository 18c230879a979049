#!/usr/bin/env node
// The command line: yargs-parser reads the words, options.ts checks them, supervise() does the work.
// The full yargs (15 MB and tens of milliseconds to load) is only loaded to print --help.
import { readFileSync } from 'node:fs';
import parse from 'yargs-parser';
import { HEART_OPTIONS, heartSettings } from './cli-heart.js';
import { supervise } from './index.js';
import { colorLevel, createLogger, logSupervisor } from './log.js';
import { holdSignals } from './shell/signals.js';
import {
  cliCount,
  cliDuration,
  cliPath,
  cliRestartMode,
  cliSignal,
  cliSuccessCodes,
  DEFAULTS,
  UsageError,
  type LogFormat,
  type LogLevel,
  type SuperviseOptions,
} from './options.js';

const USAGE = 'keepalive [options] [--] <command> [args...]';

/** Everything the command line says; the guardian reads its share (GuardianSettings) of it. */
export interface CliSettings {
  supervise: SuperviseOptions;
  logFormat: LogFormat;
  logLevel: LogLevel;
  pidfile: string | undefined;
  detach: boolean;
  logFile: string | undefined;
}

/** First words that name a command acting on a running instance; `keepalive -- status` runs a program. */
const CONTROL_WORDS = new Set(['status', 'stop', 'restart']);

interface OptionSpec {
  type: 'string' | 'boolean';
  group: string;
  describe: string;
  default?: string;
  alias?: string;
}

/** Every option, once: the parser's types and aliases and the --help page both come from here. */
const OPTIONS: Record<string, OptionSpec> = {
  restart: { type: 'string', group: 'Restarting:', describe: 'always | on-failure | never', default: DEFAULTS.restart },
  'success-codes': { type: 'string', group: 'Restarting:', describe: 'exit codes and signals that are a clean end under on-failure, e.g. 0,3,SIGTERM', default: '0' },
  delay: { type: 'string', group: 'Restarting:', describe: 'first delay before a restart; doubles per consecutive failure', default: '100ms' },
  'max-delay': { type: 'string', group: 'Restarting:', describe: 'longest delay between restarts', default: '30s' },
  'reset-after': { type: 'string', group: 'Restarting:', describe: 'uptime after which the delay starts over', default: '30s' },
  'max-restarts': { type: 'string', group: 'Restarting:', describe: 'restarts allowed within --restart-window before giving up (default: unlimited)' },
  'restart-window': { type: 'string', group: 'Restarting:', describe: 'sliding window for --max-restarts', default: '1m' },
  'kill-timeout': { type: 'string', group: 'Stopping:', describe: 'time between the stop signal and SIGKILL', default: '8s' },
  'stop-signal': { type: 'string', group: 'Stopping:', describe: 'signal keepalive sends when it stops or restarts the child', default: DEFAULTS.stopSignal },
  subreaper: { type: 'boolean', group: 'Stopping:', describe: 'reap orphaned descendants as PID 1 would (automatic as PID 1)' },
  name: { type: 'string', group: 'Output:', describe: 'name in log lines (default: the script or program name)' },
  'log-format': { type: 'string', group: 'Output:', describe: 'text | json', default: 'text' },
  'log-file': { type: 'string', group: 'Output:', describe: "append keepalive's own lines to FILE instead of stderr (with --detach, the command's output too)" },
  quiet: { type: 'boolean', alias: 'q', group: 'Output:', describe: 'only errors' },
  verbose: { type: 'boolean', alias: 'v', group: 'Output:', describe: 'also forwarded signals, reaped orphans, STATUS= texts and other details' },
  ...HEART_OPTIONS,
  pidfile: { type: 'string', group: 'Single instance (cron):', describe: 'be the one keepalive for FILE; a later one exits 0 (silent unless on a terminal)' },
  detach: { type: 'boolean', group: 'Single instance (cron):', describe: 'go on in the background; return once the command has started' },
  help: { type: 'boolean', alias: 'h', group: 'Other:', describe: 'show this page' },
  version: { type: 'boolean', group: 'Other:', describe: 'show the version' },
};

type Parsed = Record<string, unknown> & { '--'?: unknown[] };

/**
 * `--delay -1s` would read as the flags -1 and -s: join such a value to its option
 * (`--delay=-1s`) so that the option's own check names it. Stops at `--` and at the command.
 */
function joinNegativeValues(argv: readonly string[], valued: ReadonlySet<string>): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--' || !word.startsWith('-')) return [...words, ...argv.slice(i)];
    const next = argv[i + 1];
    if (word.startsWith('--') && valued.has(word.slice(2)) && next !== undefined && /^-\d/.test(next)) {
      words.push(`${word}=${next}`);
      i++;
    } else {
      words.push(word);
    }
  }
  return words;
}

function parseWords(argv: readonly string[]): Parsed {
  const names = Object.keys(OPTIONS);
  const spec = (type: OptionSpec['type']) => names.filter((name) => OPTIONS[name]?.type === type);
  const alias = Object.fromEntries(names.flatMap((name) => (OPTIONS[name]?.alias ? [[name, OPTIONS[name].alias]] : [])));
  const parsed = parse(joinNegativeValues(argv, new Set(spec('string'))), {
    string: spec('string'),
    boolean: spec('boolean'),
    alias,
    configuration: {
      'halt-at-non-option': true,
      'populate--': true,
      'boolean-negation': false,
      'camel-case-expansion': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': false,
      'dot-notation': false,
      'strip-aliased': true,
    },
  }) as Parsed;
  const known = new Set([...names, ...Object.values(alias), '_', '--']);
  const unknown = Object.keys(parsed).find((key) => !known.has(key));
  if (unknown !== undefined) {
    const typed = argv.find((word) => word.replace(/^-+/, '').split('=')[0] === unknown) ?? `--${unknown}`;
    throw new UsageError(`unknown option "${typed}"; see keepalive --help for the options (put the command after --)`);
  }
  return parsed;
}

function text(parsed: Parsed, name: string): string {
  const value = parsed[name];
  if (Array.isArray(value)) return String(value.at(-1) ?? '');
  return value === undefined ? (OPTIONS[name]?.default ?? '') : String(value);
}

function optional(parsed: Parsed, name: string): string | undefined {
  return parsed[name] === undefined ? undefined : text(parsed, name);
}

function parseCommandLine(parsed: Parsed): CliSettings {
  const [command, ...args] = ((parsed['--'] ?? parsed['_'] ?? []) as unknown[]).map(String);
  if (command === undefined) throw new UsageError(`no command given; usage: ${USAGE}`);
  if (parsed['quiet'] && parsed['verbose']) throw new UsageError('-q/--quiet and -v/--verbose cannot be used together; choose one');
  const logFormat = text(parsed, 'log-format');
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format "${logFormat}": expected text or json`);
  const success = cliSuccessCodes('--success-codes', text(parsed, 'success-codes'));
  const maxRestarts = parsed['max-restarts'] === undefined ? DEFAULTS.maxRestarts : cliCount('--max-restarts', text(parsed, 'max-restarts'));
  return {
    pidfile: cliPath('--pidfile', optional(parsed, 'pidfile')),
    detach: parsed['detach'] === true,
    logFile: cliPath('--log-file', optional(parsed, 'log-file')),
    logFormat,
    logLevel: parsed['quiet'] ? 'quiet' : parsed['verbose'] ? 'verbose' : 'normal',
    supervise: {
      command,
      args,
      ...(parsed['name'] === undefined ? {} : { name: text(parsed, 'name') }),
      restart: cliRestartMode('--restart', text(parsed, 'restart')),
      successCodes: success.codes,
      successSignals: success.signals,
      delay: cliDuration('--delay', text(parsed, 'delay')),
      maxDelay: cliDuration('--max-delay', text(parsed, 'max-delay')),
      resetAfter: cliDuration('--reset-after', text(parsed, 'reset-after')),
      maxRestarts,
      restartWindow: cliDuration('--restart-window', text(parsed, 'restart-window')),
      killTimeout: cliDuration('--kill-timeout', text(parsed, 'kill-timeout')),
      stopSignal: cliSignal('--stop-signal', text(parsed, 'stop-signal')),
      handleSignals: true,
      subreaper: parsed['subreaper'] === true,
      ...heartSettings(parsed as Parameters<typeof heartSettings>[0]),
    },
  };
}

async function printHelp(): Promise<void> {
  const [{ default: yargs }, { CONTROL_USAGES }] = await Promise.all([import('yargs'), import('./guardian/control.js')]);
  const page = yargs([])
    .scriptName('keepalive')
    .usage(
      `${USAGE}\n${CONTROL_USAGES.join('\n')}\n\n` +
        'Starts <command>, says in words how each exit ended, and restarts it with backoff.\n' +
        'status, stop and restart act on the keepalive that owns FILE; a program named so runs after --.',
    )
    .options(OPTIONS)
    .version(false)
    .help(false)
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .example('keepalive -- node app.js', 'keep app.js running')
    .example('keepalive --restart on-failure --max-restarts 5 -- ./worker.sh', 'give up after 5 quick failures')
    .example('keepalive --heartbeat 5s -- ./worker.sh', 'restart it when it stops beating')
    .example('keepalive --pidfile app.pid --detach -- node app.js', 'for crontab: one instance, in the background')
    .epilog('Durations take a unit: 250ms, 1s, 1.5m, 2h. Documentation: README.md');
  process.stdout.write(`${await page.getHelp()}\n`);
}

function readVersion(): string {
  const packageJson = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

async function main(): Promise<number> {
  // A reader that went away (a closed pipe, a hung-up terminal) must not crash keepalive mid-stop.
  process.stderr.on('error', () => {});
  process.stdout.on('error', () => {});
  const argv = process.argv.slice(2);
  if (CONTROL_WORDS.has(argv[0] ?? '')) {
    const { parseControlCommand, runControl } = await import('./guardian/control.js');
    const control = parseControlCommand(argv);
    if (control) return runControl(control, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) });
  }
  const parsed = parseWords(argv);
  if (parsed['help']) {
    await printHelp();
    return 0;
  }
  if (parsed['version']) {
    process.stdout.write(`${readVersion()}\n`);
    return 0;
  }
  const settings = parseCommandLine(parsed);
  // The cron guardian's code (pidfile, detach, log file) is loaded only when it is asked for.
  const needsGuardian = settings.pidfile !== undefined || settings.logFile !== undefined || settings.detach;
  const guardian = needsGuardian ? await import('./guardian/claim.js') : undefined;
  if (guardian && settings.detach && !guardian.isBackground()) return guardian.detach(argv, settings);
  const log = await createLogger({
    format: settings.logFormat,
    level: settings.logLevel,
    colorLevel: settings.logFile === undefined ? colorLevel(process.env, process.stderr) : 0,
    write: guardian ? guardian.logWriter(settings.logFile) : (line) => process.stderr.write(line),
  });
  const instance = guardian && settings.pidfile !== undefined ? await guardian.claim(settings, settings.pidfile, log) : undefined;
  if (typeof instance === 'number') return instance;
  // From here to process.exit(), no signal ends keepalive by its default action: once the
  // supervisor has let go of its handlers, the exit (files removed, the child's status) goes on.
  holdSignals();
  // Listen before the first tick, when the supervisor starts the child.
  const supervisor = supervise(settings.supervise);
  logSupervisor(supervisor, log);
  instance?.attach(supervisor);
  guardian?.reportFirstStart(supervisor);
  const { status } = await supervisor.done;
  instance?.release();
  await guardian?.foregroundTold();
  return status;
}

main().then(
  (status) => process.exit(status),
  async (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`keepalive: ${error.message}\n`);
      process.exit(error.exitStatus);
    }
    const { InstanceError } = await import('./guardian/instance-files.js');
    if (error instanceof InstanceError) {
      process.stderr.write(`keepalive: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`keepalive: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env['KEEPALIVE_DEBUG']) process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(70);
  },
);
