// The command line's words as options: yargs-parser splits them, the table (option-table.ts) maps
// each flag to its option key and reads its text, resolveOptions() checks the values. A problem
// comes back by key and is said again with the flag and the text as the user typed them.
import { resolve } from 'node:path';
import parse from 'yargs-parser';
import { rawArguments } from './spawn/raw-bytes.js';
import { OPTIONS, type OptionKey, type OptionSpec } from './option-table.js';
import { expectedWords, readOptionText } from './option-read.js';
import { checkValue } from './option-rules.js';
import type { SetSource } from './set/load.js';
import type { Layer } from './set/set-rules.js';
import {
  checkOptions,
  OptionError,
  problemWords,
  resolveOptions,
  UsageError,
  type LogFormat,
  type LogLevel,
  type ResolvedOptions,
  type SuperviseOptions,
} from './options.js';

export const USAGE = 'keepalive [options] [--] <command> [args...]';
export const SET_USAGE = 'keepalive [options] -c FILE | --procfile FILE [--check]';

/** Everything the command line says; the guardian reads its share (GuardianSettings) of it. */
export interface CliSettings {
  /** What supervise() is given: only what was typed, so that defaults come from one place. */
  supervise: SuperviseOptions;
  /** The same, checked and with every default: what the guardian reads. */
  options: ResolvedOptions;
  logFormat: LogFormat;
  logLevel: LogLevel;
  pidfile: string | undefined;
  detach: boolean;
  logFile: string | undefined;
  logFileShared: boolean;
}

/** -c FILE or --procfile FILE: a set of processes, from a file. */
export interface SetSettings {
  source: SetSource;
  /** --check: read the file, print the start order, start nothing. */
  check: boolean;
  /** The per-process flags given, as defaults under the file's own keys. */
  flags: Layer;
  subreaper: boolean;
  logFormat: LogFormat;
  logLevel: LogLevel;
  pidfile: string | undefined;
  detach: boolean;
  logFile: string | undefined;
  logFileShared: boolean;
}

type CommandLine =
  | { kind: 'help' }
  | { kind: 'version' }
  | ({ kind: 'run' } & CliSettings)
  | ({ kind: 'set' } & SetSettings);

/**
 * Options for keepalive as a whole: checked like the others, never handed to supervise() (which
 * gets `subreaper` from --no-subreaper below).
 */
const CLI_ONLY = new Set<OptionKey>(
  (Object.keys(OPTIONS) as OptionKey[]).filter(
    (key) => (OPTIONS[key] as OptionSpec).scope === 'keepalive',
  ),
);

const FLAGS = (Object.keys(OPTIONS) as OptionKey[]).flatMap((key) => {
  const spec: OptionSpec = OPTIONS[key];
  return spec.flag === undefined ? [] : [{ key, flag: spec.flag, spec }];
});
const KEY_OF = new Map(FLAGS.map(({ key, flag }) => [flag, key]));
const ALIASES = new Map(
  FLAGS.flatMap(({ flag, spec }) => (spec.alias ? [[spec.alias, flag] as const] : [])),
);
const SWITCHES = new Set(
  FLAGS.filter(({ spec }) => spec.read === 'switch').map(({ flag }) => flag),
);
const VALUED = new Set(FLAGS.filter(({ spec }) => spec.read !== 'switch').map(({ flag }) => flag));

/** An option as a person types it: `--heartbeat-grace`, `-q/--quiet`. */
function flagWords(key: OptionKey): string {
  // The API's successSignals are typed within --success-codes.
  const spec: OptionSpec = OPTIONS[key === 'successSignals' ? 'successCodes' : key];
  if (spec.flag === undefined) return key;
  return spec.alias ? `-${spec.alias}/--${spec.flag}` : `--${spec.flag}`;
}

export function readCommandLine(argv: readonly string[]): CommandLine {
  const parsed = parseWords(argv);
  if (parsed['help']) return { kind: 'help' };
  if (parsed['version']) return { kind: 'version' };
  const typed = new Map<OptionKey, string>();
  const given: Partial<Record<OptionKey, unknown>> = {};
  for (const { key, flag, spec } of FLAGS) {
    const value = parsed[flag];
    if (value === undefined) continue;
    if (spec.read === 'switch') {
      given[key] = value === true;
      continue;
    }
    const text = Array.isArray(value) ? String(value.at(-1) ?? '') : String(value);
    typed.set(key, text);
    Object.assign(given, readText(key, spec, text));
  }
  const [command, ...args] = ((parsed['--'] ?? parsed['_'] ?? []) as unknown[]).map(String);
  if (given.config !== undefined || given.procfile !== undefined)
    return readSetLine(given, typed, command);
  if (command === undefined) throw new UsageError(`no command given; usage: ${USAGE}`);
  if (command.includes('\uFFFD'))
    throw new UsageError(
      `the command name ${JSON.stringify(command)} is not valid UTF-8; name it through a path ` +
        `that is (a symlink, for one)`,
    );
  // Arguments that are not UTF-8 reach the child as the bytes keepalive was given; the CLI is a
  // subreaper and has a notify socket.
  const supervise = {
    command,
    args: rawArguments(args),
    handleSignals: true,
    subreaper: given.noSubreaper !== true,
    notifyAccess: 'all',
  } as SuperviseOptions & Record<string, unknown>;
  for (const [key, value] of Object.entries(given))
    if (!CLI_ONLY.has(key as OptionKey)) supervise[key] = value;
  const options = sayWithFlags(typed, () => {
    checkOptions(given);
    return resolveOptions(supervise);
  });
  // A rotation would take keepalive's own log file away from under it.
  if (
    typeof given.output === 'string' &&
    typeof given.logFile === 'string' &&
    resolve(given.output) === resolve(given.logFile)
  )
    throw new UsageError('--output and --log-file name the same file; give each its own');
  return {
    kind: 'run',
    supervise,
    options,
    logFormat: (given.logFormat ?? OPTIONS.logFormat.default) as LogFormat,
    logLevel: given.quiet ? 'quiet' : given.verbose ? 'verbose' : 'normal',
    pidfile: given.pidfile as string | undefined,
    detach: given.detach === true,
    logFile: given.logFile as string | undefined,
    logFileShared: given.logFileShared === true,
  };
}

/**
 * A set's command line: keepalive's own flags checked whole; a process's flags only each against
 * its rule, since they are defaults that a process may not use (--health-interval, for a process
 * with no health check).
 */
function readSetLine(
  given: Partial<Record<OptionKey, unknown>>,
  typed: ReadonlyMap<OptionKey, string>,
  command: string | undefined,
): { kind: 'set' } & SetSettings {
  const option = given.config !== undefined ? flagWords('config') : '--procfile';
  if (given.config !== undefined && given.procfile !== undefined)
    throw new UsageError(
      `${flagWords('config')} and --procfile cannot be used together; choose one`,
    );
  if (command !== undefined)
    throw new UsageError(
      `${option} runs the processes its file names: give no command with it ` +
        `(${JSON.stringify(command)} came after the options)`,
    );
  if (given.name !== undefined)
    throw new UsageError(
      `--name names a single command; ${option}'s processes are named in the file`,
    );
  const own: Partial<Record<OptionKey, unknown>> = {};
  const flags: Layer = { values: {}, origins: new Map(), command: undefined, dependsOn: undefined };
  for (const [key, value] of Object.entries(given) as Array<[OptionKey, unknown]>) {
    if (CLI_ONLY.has(key)) {
      own[key] = value;
      continue;
    }
    if (!checkValue(OPTIONS[key].rule, value))
      sayWithFlags(typed, () => {
        throw new OptionError({ kind: 'value', key, value });
      });
    flags.values[key] = value;
    const text = typed.get(key === 'successSignals' ? 'successCodes' : key);
    flags.origins.set(key, {
      kind: 'flag',
      typed: text === undefined ? undefined : JSON.stringify(text),
    });
  }
  sayWithFlags(typed, () => checkOptions(own));
  return {
    kind: 'set',
    source:
      given.config !== undefined
        ? { kind: 'config', file: given.config as string }
        : { kind: 'procfile', file: given.procfile as string },
    check: given.check === true,
    flags,
    subreaper: given.noSubreaper !== true,
    logFormat: (given.logFormat ?? OPTIONS.logFormat.default) as LogFormat,
    logLevel: given.quiet ? 'quiet' : given.verbose ? 'verbose' : 'normal',
    pidfile: given.pidfile as string | undefined,
    detach: given.detach === true,
    logFile: given.logFile as string | undefined,
    logFileShared: given.logFileShared === true,
  };
}

/**
 * checkOptions() for what a command line gave, its problems said with flags and the text as typed.
 */
export function checkFlags(
  given: Partial<Record<OptionKey, unknown>>,
  typed: Partial<Record<OptionKey, string>>,
): void {
  sayWithFlags(new Map(Object.entries(typed) as Array<[OptionKey, string]>), () =>
    checkOptions(given),
  );
}

/** Runs a check; a problem it finds by option key comes out said with flags. */
function sayWithFlags<T>(typed: ReadonlyMap<OptionKey, string>, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    throw new UsageError(cliWords(error, typed));
  }
}

/** The problem again, with flags for keys and the text as typed for values. */
function cliWords({ problem }: OptionError, typed: ReadonlyMap<OptionKey, string>): string {
  // A value is quoted as typed, but never at length (a 70,000-character --name).
  const value = (key: OptionKey, raw: unknown): string => {
    const text = typed.get(key) ?? String(raw);
    return JSON.stringify(
      text.length > 60 ? `${text.slice(0, 40)}... (${text.length} characters)` : text,
    );
  };
  if (problem.kind !== 'value') return problemWords(problem, flagWords, value);
  return (
    `${flagWords(problem.key)} ${value(problem.key, problem.value)}: expected ` +
    `${expectedWords(OPTIONS[problem.key])}`
  );
}

/** A flag's text as the value its key takes; what cannot even be read is refused here. */
function readText(
  key: OptionKey,
  spec: OptionSpec,
  text: string,
): Partial<Record<OptionKey, unknown>> {
  const read = readOptionText(key, spec, text);
  if (!read.ok) throw new UsageError(`${flagWords(key)} ${JSON.stringify(text)}: ${read.why}`);
  return read.values;
}

type Parsed = Record<string, unknown> & { '--'?: unknown[] };

function parseWords(argv: readonly string[]): Parsed {
  const words = joinNegativeValues(argv);
  refuseSwitchValues(words);
  const parsed = parse(words, {
    string: [...VALUED],
    boolean: [...SWITCHES],
    alias: Object.fromEntries([...ALIASES].map(([alias, flag]) => [flag, alias])),
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
  const known = new Set([...KEY_OF.keys(), '_', '--']);
  const unknown = Object.keys(parsed).find((key) => !known.has(key));
  if (unknown !== undefined) {
    const typed =
      argv.find((word) => word.replace(/^-+/, '').split('=')[0] === unknown) ?? `--${unknown}`;
    throw new UsageError(
      `unknown option "${typed}"; see keepalive --help for the options (put the command after --)`,
    );
  }
  return parsed;
}

/** The options' words: up to `--` or the command, without the values of valued flags. */
function* optionWords(words: readonly string[]): Generator<string> {
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === '--' || !word.startsWith('-')) return;
    yield word;
    // As yargs-parser reads them: a valued flag takes the next word unless that is a flag too.
    const name = word.replace(/^-+/, '');
    if (
      !word.includes('=') &&
      VALUED.has(ALIASES.get(name) ?? name) &&
      !(words[i + 1] ?? '-').startsWith('-')
    )
      i++;
  }
}

/** yargs-parser reads `--quiet=yes` as false, quietly: a switch takes no value at all. */
function refuseSwitchValues(words: readonly string[]): void {
  for (const word of optionWords(words)) {
    const [name = '', ...value] = word.replace(/^-+/, '').split('=');
    const flag = ALIASES.get(name) ?? name;
    if (value.length > 0 && SWITCHES.has(flag)) {
      const key = KEY_OF.get(flag) as OptionKey;
      throw new UsageError(
        `${word}: ${flagWords(key)} takes no value; give it alone to turn it on`,
      );
    }
  }
}

/**
 * `--delay -1s` would read as the flags -1 and -s: join such a value to its option
 * (`--delay=-1s`) so that the option's own check names it. Stops at `--` and at the command.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--' || !word.startsWith('-')) return [...words, ...argv.slice(i)];
    const next = argv[i + 1];
    if (
      word.startsWith('--') &&
      VALUED.has(word.slice(2)) &&
      next !== undefined &&
      /^-\d/.test(next)
    ) {
      words.push(`${word}=${next}`);
      i++;
    } else {
      words.push(word);
    }
  }
  return words;
}
