// keepalive --help, printed from the option table: each flag's group, words and default come from
// option-table.ts, so the page cannot say a default the code does not have. Laid out here rather
// than by yargs: its columns glued words to the type tag and split the examples' commands.
import { formatDuration } from './core/duration.js';
import { CONTROL_USAGES } from './guardian/control.js';
import { SET_USAGE, USAGE } from './cli-options.js';
import { packageFacts } from './package-facts.js';
import { OPTIONS, type OptionKey, type OptionSpec, type Rule } from './option-table.js';

/** Each command whole on its line, so that no part of one reads as a command of its own. */
const EXAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['keepalive -- node app.js', 'keep app.js running'],
  [
    'keepalive --restart on-failure --max-restarts 5 -- ./worker.sh',
    'give up after 5 quick failures',
  ],
  ['keepalive --heartbeat 5s -- ./worker.sh', 'restart it when it stops beating'],
  [
    'keepalive --pidfile app.pid --detach -- node app.js',
    'for crontab: one instance, in the background',
  ],
  ['keepalive -c keepalive.yaml --check', 'check a set of processes and print its start order'],
];

/** What follows a flag that takes a value, as the README writes it (`--delay D`). */
const PLACEHOLDER: Partial<Record<Rule, string>> = {
  duration: 'D',
  'positive-duration': 'D',
  count: 'N',
  retries: 'N',
  fd: 'FD',
  signal: 'SIG',
  'exit-codes': 'LIST',
  'restart-mode': 'MODE',
  'log-format': 'FORMAT',
  'output-format': 'FORMAT',
  url: 'URL',
  command: 'CMD',
  hook: 'CMD',
  size: 'SIZE',
  path: 'FILE',
  text: 'NAME',
};

/** The default as a person types it: 100 → "100ms" for a duration, [0] → "0" for a list. */
export function helpDefault(spec: OptionSpec): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = spec.default;
  if (value === undefined || spec.read === 'switch') return undefined;
  if (spec.read === 'duration') return value === 0 ? '0' : formatDuration(value as number);
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Words filled into lines of at most `width` columns, every line after the first indented by
 * `indent`.
 */
function fill(words: readonly string[], first: string, indent: number, width: number): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of words) {
    if (line.length > indent && line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else {
      line = line.endsWith(' ') ? line + word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

export function helpPage(columns: number | undefined): string {
  const width = Math.max(60, Math.min(100, columns ?? 100));
  const flags = (Object.keys(OPTIONS) as OptionKey[]).flatMap((key) => {
    const spec: OptionSpec = OPTIONS[key];
    if (spec.flag === undefined) return [];
    const value = spec.read === 'switch' ? '' : ` ${PLACEHOLDER[spec.rule] ?? 'VALUE'}`;
    return [{ spec, left: `  ${spec.alias ? `-${spec.alias}, ` : '    '}--${spec.flag}${value}` }];
  });
  const column = Math.max(...flags.map(({ left }) => left.length)) + 2;
  const groups = new Map<string, string[]>();
  for (const { spec, left } of flags) {
    const shown = helpDefault(spec);
    // The default stays whole on one line.
    const words = [
      ...(spec.describe ?? '').split(' '),
      ...(shown === undefined ? [] : [`(default: ${shown})`]),
    ];
    const lines = groups.get(spec.group ?? '') ?? [];
    lines.push(...fill(words, left.padEnd(column), column, width));
    groups.set(spec.group ?? '', lines);
  }
  const sections = [...groups].map(([group, lines]) => `${group}\n${lines.join('\n')}`);
  const examples = EXAMPLES.map(([command, what]) => `  ${command}\n      ${what}`).join('\n');
  const { homepage, readme } = packageFacts();
  // The package's README where it is installed; the single executable has none beside it.
  const places = [
    ...(readme === undefined ? [] : [readme]),
    ...(homepage === undefined ? [] : [homepage]),
  ];
  return (
    [
      `${USAGE}\n${SET_USAGE}\n${CONTROL_USAGES.join('\n')}`,
      'Starts <command>, says in words how each exit ended, and restarts it with backoff.\n' +
        "-c FILE runs the processes FILE names (YAML; keys are the flags' names), in dependency " +
        'order.\n' +
        'status, stop and restart act on the keepalive that owns FILE; a program named so runs ' +
        'after --.',
      ...sections,
      `Examples:\n${examples}`,
      'Durations take a unit: 250ms, 1s, 1.5m, 2h; a bare 0 means zero.\n' +
        `Documentation: ` +
        `${places.length > 0 ? places.join(', or ') : 'the README of the keepalive-supervisor package'}`,
    ].join('\n\n') + '\n'
  );
}
