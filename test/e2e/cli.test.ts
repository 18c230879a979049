// The command line end to end: usage errors, --help and --version, contradictory options and
// switches given a value, the crash-loop count, output formats and colour, through real keepalive
// processes.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import test from 'ava';
import { CLI, Keepalive, runKeepalive } from '../helpers/keepalive.js';
import { helpDefault } from '../../src/cli-help.js';
import { type OptionKey, OPTIONS, type OptionSpec } from '../../src/option-table.js';

const usageErrors: Array<[string, string[], string]> = [
  [
    'no command',
    [],
    'keepalive: no command given; usage: keepalive [options] [--] <command> [args...]',
  ],
  [
    'only options',
    ['--delay', '1s', '--'],
    'keepalive: no command given; usage: keepalive [options] [--] <command> [args...]',
  ],
  [
    'an unknown option',
    ['--frobnicate', '--', 'true'],
    'keepalive: unknown option "--frobnicate"; see keepalive --help for the options (put the command after --)',
  ],
  [
    'an unknown option given with =',
    ['--frob=1', 'true'],
    'keepalive: unknown option "--frob=1"; see keepalive --help for the options (put the command after --)',
  ],
  [
    'a bare number as a duration',
    ['--delay', '5', '--', 'true'],
    'keepalive: --delay "5": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did you mean 5s or 5ms?)',
  ],
  [
    'a malformed duration',
    ['--kill-timeout', 'soon', '--', 'true'],
    'keepalive: --kill-timeout "soon": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h',
  ],
  [
    'a duration Node cannot wait for',
    ['--kill-timeout', '25d', '--', 'true'],
    'keepalive: --kill-timeout "25d": expected a duration of at most 24d (Node\'s timers cannot wait longer)',
  ],
  [
    'a negative count',
    ['--max-restarts=-1', '--', 'true'],
    'keepalive: --max-restarts "-1": expected a whole number of 0 or more, such as 5',
  ],
  [
    'a negative count after a space',
    ['--max-restarts', '-1', '--', 'true'],
    'keepalive: --max-restarts "-1": expected a whole number of 0 or more, such as 5',
  ],
  [
    'a negative duration',
    ['--delay', '-1s', '--', 'true'],
    'keepalive: --delay "-1s": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h',
  ],
  [
    'a fractional count',
    ['--max-restarts', '2.5', '--', 'true'],
    'keepalive: --max-restarts "2.5": expected a whole number of 0 or more, such as 5',
  ],
  [
    'an unknown signal',
    ['--stop-signal', 'SIGNOPE', '--', 'true'],
    'keepalive: --stop-signal "SIGNOPE": expected a signal name or number, such as SIGTERM, TERM or 15',
  ],
  [
    'a bad policy word',
    ['--restart', 'sometimes', '--', 'true'],
    'keepalive: --restart "sometimes": expected one of always, on-failure, never',
  ],
  [
    'a bad success code',
    ['--success-codes', '0,300', '--', 'true'],
    'keepalive: --success-codes "0,300": "300" is neither an exit code (0-255) nor a signal name; use a list such as 0,3,SIGTERM',
  ],
  [
    'a bad log format',
    ['--log-format', 'xml', '--', 'true'],
    'keepalive: --log-format "xml": expected text or json',
  ],
  [
    'quiet and verbose',
    ['-q', '-v', '--', 'true'],
    'keepalive: -q/--quiet and -v/--verbose cannot be used together; choose one',
  ],
];

for (const [what, args, message] of usageErrors) {
  test(`bad usage, ${what}: one line, status 2`, async (t) => {
    const result = await runKeepalive(args);
    t.is(result.status, 2);
    t.is(result.stderr, `${message}\n`);
    t.is(result.stdout, '');
  });
}

test('--help is a page a person can use, on stdout, status 0', async (t) => {
  const result = await runKeepalive(['--help']);
  t.is(result.status, 0);
  t.regex(result.stdout, /keepalive \[options\] \[--\] <command> \[args\.\.\.\]/);
  for (const flag of [
    '--restart',
    '--delay',
    '--max-restarts',
    '--kill-timeout',
    '--log-format',
    '--quiet',
  ]) {
    t.true(result.stdout.includes(flag), flag);
  }
});

test('--version prints the package version', async (t) => {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  const result = await runKeepalive(['--version']);
  t.is(result.status, 0);
  t.is(result.stdout.trim(), pkg.version);
});

test('options after the command belong to the child', async (t) => {
  const result = await runKeepalive([
    '--restart',
    'never',
    'sh',
    '-c',
    'echo "$@"',
    'sh',
    '--delay',
    '5',
    '-v',
  ]);
  t.is(result.status, 0);
  t.is(result.stdout, '--delay 5 -v\n');
});

const refused: Array<[string, string[], string]> = [
  [
    'a max delay below the delay',
    ['--delay', '2s', '--max-delay', '1s'],
    '--max-delay "1s" is shorter than --delay "2s"; make --max-delay at least --delay',
  ],
  [
    'a switch given a value',
    ['--quiet=yes'],
    '--quiet=yes: -q/--quiet takes no value; give it alone to turn it on',
  ],
  [
    'a short switch given a value',
    ['-q=1'],
    '-q=1: -q/--quiet takes no value; give it alone to turn it on',
  ],
  [
    '--subreaper=true',
    ['--subreaper=true'],
    '--subreaper=true: --subreaper takes no value; give it alone to turn it on',
  ],
  [
    '--detach=no',
    ['--pidfile', '/nonexistent/keepalive.pid', '--detach=no'],
    '--detach=no: --detach takes no value; give it alone to turn it on',
  ],
  [
    '--detach without --pidfile',
    ['--detach'],
    '--detach needs --pidfile: without it nothing could find or stop the keepalive in the background',
  ],
];

for (const [what, args, message] of refused) {
  test(`refused, ${what}: one line, status 2, nothing started`, async (t) => {
    // --restart never: were the options taken, keepalive would end at once rather than hang the
    // test.
    const result = await runKeepalive([
      ...args,
      '--restart',
      'never',
      '--',
      'sh',
      '-c',
      'echo started',
    ]);
    t.is(result.status, 2);
    t.is(result.stderr, `keepalive: ${message}\n`);
    t.is(result.stdout, '');
  });
}

test('a switch given a value is found after other flags and their values too', async (t) => {
  const result = await runKeepalive([
    '--name',
    'app',
    '--delay',
    '1s',
    '--verbose=0',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'echo started',
  ]);
  t.is(result.status, 2);
  t.is(
    result.stderr,
    'keepalive: --verbose=0: -v/--verbose takes no value; give it alone to turn it on\n',
  );
});

test('--delay alone above the default --max-delay is taken as it is', async (t) => {
  const result = await runKeepalive([
    '--delay',
    '40s',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'exit 0',
  ]);
  t.is(result.status, 0);
});

test('clean exits under --restart always are restarted but not counted: "giving up" counts failures', async (t) => {
  const script = 'if [ "$KEEPALIVE_RESTARTS" -lt 3 ]; then exit 0; fi; exit 1';
  const result = await runKeepalive([
    '--max-restarts',
    '1',
    '--restart-window',
    '10s',
    '--delay',
    '0',
    '--',
    'sh',
    '-c',
    script,
  ]);
  t.is(result.status, 1);
  t.is(result.lines.filter((line) => / started( \(restart \d+\))?$/.test(line)).length, 5);
  t.regex(
    result.lines.at(-1) ?? '',
    /^keepalive: sh\[\d+\] exited with code 1; giving up: 2 failures in 10s$/,
  );
});

test('--help: generated from the option table, every default as the table has it', async (t) => {
  const result = await runKeepalive(['--help']);
  t.is(result.status, 0);
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const spec: OptionSpec = OPTIONS[key];
    if (spec.flag === undefined) continue;
    // Its own entry: the flag at the start of a line, not a mention in another's words.
    const start = result.stdout.search(
      new RegExp(`^ {2}(?:-\\w, | {4})--${spec.flag}\\b(?!-)`, 'm'),
    );
    t.true(start >= 0, spec.flag);
    const shown = helpDefault(spec);
    if (shown === undefined) continue;
    // The entry runs up to the next flag or the end of its group.
    const rest = result.stdout.slice(start + 1);
    const entry = rest.slice(0, rest.search(/\n(?: {2}-\w, | {6}--|\n)/));
    t.true(entry.replace(/\s+/g, ' ').includes(`(default: ${shown})`), `${spec.flag}: ${entry}`);
  }
  t.regex(
    result.stdout,
    /--kill-timeout D +time between the stop signal and SIGKILL \(default: 8s\)/,
  );
});

test('--help: no word glued to the next, no line too long, each example command whole on its line', async (t) => {
  const result = await runKeepalive(['--help']);
  const lines = result.stdout.trimEnd().split('\n');
  t.true(
    lines.every((line) => line.length <= 100),
    lines.find((line) => line.length > 100),
  );
  t.notRegex(result.stdout, /\w\[(boolean|string)\]/);
  t.regex(result.stdout, /other\s+details/);
  for (const command of [
    'keepalive --restart on-failure --max-restarts 5 -- ./worker.sh',
    'keepalive --pidfile app.pid --detach -- node app.js',
  ]) {
    t.true(lines.includes(`  ${command}`), command);
  }
  t.false(lines.some((line) => line.trim() === './worker.sh' || line.trim() === 'app.js'));
});

test('--help ends by pointing at the README where the package is installed', async (t) => {
  const result = await runKeepalive(['--help']);
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  const match = /^Documentation: (\/\S+README\.md)/.exec(last);
  t.truthy(match, last);
  const path = match?.[1] ?? '';
  t.true(existsSync(path), path);
  t.regex(readFileSync(path, 'utf8'), /^# keepalive/);
});

test('--log-format json: one event object per line with a stable shape', async (t) => {
  const result = await runKeepalive([
    '--log-format',
    'json',
    '--restart',
    'never',
    '--',
    'sh',
    '-c',
    'exit 4',
  ]);
  t.is(result.status, 4);
  const events = result.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  t.deepEqual(
    events.map((event) => event['event']),
    ['spawn', 'exit'],
  );
  for (const event of events) {
    t.is(typeof event['time'], 'string');
    t.is(typeof event['message'], 'string');
    t.is(event['level'], event['event'] === 'exit' ? 'warn' : 'info');
  }
  t.like(events[1], {
    outcome: { kind: 'exited', code: 4 },
    status: 4,
    next: { action: 'end', reason: 'no-restart' },
  });
});

test('-q prints only errors; -v adds forwarded signals', async (t) => {
  const quiet = await runKeepalive(['-q', '--restart', 'never', '--', 'sh', '-c', 'exit 4']);
  t.is(quiet.stderr, '');
  const keepalive = new Keepalive(['-v', '--', 'sleep', '1000']);
  await keepalive.childPid();
  keepalive.signal('SIGHUP');
  await keepalive.stderr.next(/killed: SIGHUP/);
  keepalive.signal('SIGTERM');
  await keepalive.ended;
  t.regex(keepalive.stderr.text, /SIGHUP forwarded to sleep\[\d+\]/);
});

test('on a real terminal the lines are coloured, unless NO_COLOR is set', async (t) => {
  // Node reads CI=true (set by CI runners) as "no colours": the terminal alone decides here.
  const command = `${process.execPath} ${JSON.stringify(CLI)} --restart never -- sh -c 'exit 3'`;
  const onTerminal = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: undefined, CI: undefined, TERM: 'xterm-256color' },
  });
  t.is(onTerminal.status, 3);
  t.regex(onTerminal.stdout, /\u001b\[\d+m.*exited with code 3/);
  const noColor = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  t.is(noColor.status, 3);
  t.regex(noColor.stdout, /keepalive: sh\[\d+\] exited with code 3/);
  t.notRegex(noColor.stdout, /\u001b\[/);
});
