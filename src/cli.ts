#!/usr/bin/env node
// The command line: yargs reads the words, options.ts checks them, supervise() does the work.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { HEART_OPTIONS, heartSettings } from './cli-heart.js';
import { supervise } from './index.js';
import { colorLevel, createLogger, logSupervisor } from './log.js';
import {
  cliCount,
  cliDuration,
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

interface CliSettings {
  supervise: SuperviseOptions;
  logFormat: LogFormat;
  logLevel: LogLevel;
}

const OPTIONS = {
  restart: { type: 'string', group: 'Restarting:', describe: 'always | on-failure | never', default: DEFAULTS.restart },
  'success-codes': { type: 'string', group: 'Restarting:', describe: 'exit codes and signals that are a clean end under on-failure, e.g. 0,3,SIGTERM', default: '0' },
  delay: { type: 'string', group: 'Restarting:', describe: 'first delay before a restart; doubles per consecutive failure', default: '100ms' },
  'max-delay': { type: 'string', group: 'Restarting:', describe: 'longest delay between restarts', default: '30s' },
  'reset-after': { type: 'string', group: 'Restarting:', describe: 'uptime after which the delay starts over', default: '30s' },
  'max-restarts': { type: 'string', group: 'Restarting:', describe: 'restarts allowed within --restart-window before giving up (default: unlimited)' },
  'restart-window': { type: 'string', group: 'Restarting:', describe: 'sliding window for --max-restarts', default: '1m' },
  'kill-timeout': { type: 'string', group: 'Stopping:', describe: 'time between the stop signal and SIGKILL', default: '8s' },
  'stop-signal': { type: 'string', group: 'Stopping:', describe: 'signal keepalive sends when it stops or restarts the child', default: DEFAULTS.stopSignal },
  name: { type: 'string', group: 'Output:', describe: 'name in log lines (default: the script or program name)' },
  'log-format': { type: 'string', group: 'Output:', describe: 'text | json', default: 'text' },
  quiet: { type: 'boolean', alias: 'q', group: 'Output:', describe: 'only errors' },
  verbose: { type: 'boolean', alias: 'v', group: 'Output:', describe: 'also forwarded signals, STATUS= texts and other details' },
  ...HEART_OPTIONS,
} as const;

function parseCommandLine(argv: readonly string[]): CliSettings {
  const parsed = yargs([...argv])
    .scriptName('keepalive')
    .usage(`${USAGE}\n\nStarts <command>, says in words how each exit ended, and restarts it with backoff.`)
    .parserConfiguration({
      'halt-at-non-option': true,
      'populate--': true,
      'boolean-negation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': false,
      'dot-notation': false,
    })
    .options(OPTIONS)
    .strictOptions()
    .fail((message, error) => {
      throw error ?? new UsageError(explainYargsMessage(message, argv));
    })
    .version(readVersion())
    .help()
    .alias('help', 'h')
    .wrap(Math.min(100, process.stderr.columns ?? 100))
    .example('keepalive -- node app.js', 'keep app.js running')
    .example('keepalive --restart on-failure --max-restarts 5 -- ./worker.sh', 'give up after 5 quick failures')
    .example('keepalive --heartbeat 5s -- ./worker.sh', 'restart it when it stops beating')
    .epilog('Durations take a unit: 250ms, 1s, 1.5m, 2h. Documentation: README.md')
    .parseSync();

  const [command, ...args] = ((parsed['--'] ?? []) as unknown[]).map(String);
  if (command === undefined) throw new UsageError(`no command given; usage: ${USAGE}`);
  if (parsed.quiet && parsed.verbose) throw new UsageError('-q/--quiet and -v/--verbose cannot be used together; choose one');
  const logFormat = parsed['log-format'];
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new UsageError(`--log-format "${logFormat}": expected text or json`);
  }
  const success = cliSuccessCodes('--success-codes', parsed['success-codes']);
  return {
    logFormat,
    logLevel: parsed.quiet ? 'quiet' : parsed.verbose ? 'verbose' : 'normal',
    supervise: {
      command,
      args,
      ...(parsed.name === undefined ? {} : { name: parsed.name }),
      restart: cliRestartMode('--restart', parsed.restart),
      successCodes: success.codes,
      successSignals: success.signals,
      delay: cliDuration('--delay', parsed.delay),
      maxDelay: cliDuration('--max-delay', parsed['max-delay']),
      resetAfter: cliDuration('--reset-after', parsed['reset-after']),
      maxRestarts: parsed['max-restarts'] === undefined ? DEFAULTS.maxRestarts : cliCount('--max-restarts', parsed['max-restarts']),
      restartWindow: cliDuration('--restart-window', parsed['restart-window']),
      killTimeout: cliDuration('--kill-timeout', parsed['kill-timeout']),
      stopSignal: cliSignal('--stop-signal', parsed['stop-signal']),
      handleSignals: true,
      ...heartSettings(parsed),
    },
  };
}

/** yargs says "Unknown arguments: foo, bar"; the user typed "--foo". Name it as typed. */
function explainYargsMessage(message: string, argv: readonly string[]): string {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (!unknown?.[1]) return `${message}; see keepalive --help`;
  const first = unknown[1].split(', ')[0] ?? '';
  const typed = argv.find((word) => word.replace(/^-+/, '').split('=')[0] === first) ?? first;
  return `unknown option "${typed}"; see keepalive --help for the options (put the command after --)`;
}

function readVersion(): string {
  const packageJson = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

async function main(): Promise<number> {
  const settings = parseCommandLine(process.argv.slice(2));
  const supervisor = supervise(settings.supervise);
  const log = createLogger({
    format: settings.logFormat,
    level: settings.logLevel,
    colorLevel: colorLevel(process.env, process.stderr.isTTY === true),
    write: (line) => process.stderr.write(line),
  });
  logSupervisor(supervisor, log);
  return (await supervisor.done).status;
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`keepalive: ${error.message}\n`);
      process.exit(error.exitStatus);
    }
    process.stderr.write(`keepalive: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env['KEEPALIVE_DEBUG']) process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(70);
  },
);
