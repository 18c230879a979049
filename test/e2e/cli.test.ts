// The command line end to end: options that contradict each other, switches given a value, the
// crash-loop count, and the --help page, through real keepalive processes.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { helpDefault } from '../../src/cli-help.js';
import { OPTIONS, type OptionKey, type OptionSpec } from '../../src/option-table.js';
import { runKeepalive } from '../helpers/keepalive.js';

const refused: Array<[string, string[], string]> = [
  ['a max delay below the delay', ['--delay', '2s', '--max-delay', '1s'], '--max-delay "1s" is shorter than --delay "2s"; make --max-delay at least --delay'],
  ['a switch given a value', ['--quiet=yes'], '--quiet=yes: -q/--quiet takes no value; give it alone to turn it on'],
  ['a short switch given a value', ['-q=1'], '-q=1: -q/--quiet takes no value; give it alone to turn it on'],
  ['--subreaper=true', ['--subreaper=true'], '--subreaper=true: --subreaper takes no value; give it alone to turn it on'],
  ['--detach=no', ['--pidfile', '/nonexistent/keepalive.pid', '--detach=no'], '--detach=no: --detach takes no value; give it alone to turn it on'],
  ['--detach without --pidfile', ['--detach'], '--detach needs --pidfile: without it nothing could find or stop the keepalive in the background'],
];
for (const [what, args, message] of refused) {
  test(`refused, ${what}: one line, status 2, nothing started`, async (t) => {
    // --restart never: were the options taken, keepalive would end at once rather than hang the test.
    const result = await runKeepalive([...args, '--restart', 'never', '--', 'sh', '-c', 'echo started']);
    t.is(result.status, 2);
    t.is(result.stderr, `keepalive: ${message}\n`);
    t.is(result.stdout, '');
  });
}

test('a switch given a value is found after other flags and their values too', async (t) => {
  const result = await runKeepalive(['--name', 'app', '--delay', '1s', '--verbose=0', '--restart', 'never', '--', 'sh', '-c', 'echo started']);
  t.is(result.status, 2);
  t.is(result.stderr, 'keepalive: --verbose=0: -v/--verbose takes no value; give it alone to turn it on\n');
});

test('--delay alone above the default --max-delay is taken as it is', async (t) => {
  const result = await runKeepalive(['--delay', '40s', '--restart', 'never', '--', 'sh', '-c', 'exit 0']);
  t.is(result.status, 0);
});

test('clean exits under --restart always are restarted but not counted: "giving up" counts failures', async (t) => {
  const script = 'if [ "$KEEPALIVE_RESTARTS" -lt 3 ]; then exit 0; fi; exit 1';
  const result = await runKeepalive(['--max-restarts', '1', '--restart-window', '10s', '--delay', '0', '--', 'sh', '-c', script]);
  t.is(result.status, 1);
  t.is(result.lines.filter((line) => / started( \(restart \d+\))?$/.test(line)).length, 5);
  t.regex(result.lines.at(-1) ?? '', /^keepalive: sh\[\d+\] exited with code 1; giving up: 2 failures in 10s$/);
});

test('--help: generated from the option table, every default as the table has it', async (t) => {
  const result = await runKeepalive(['--help']);
  t.is(result.status, 0);
  for (const key of Object.keys(OPTIONS) as OptionKey[]) {
    const spec: OptionSpec = OPTIONS[key];
    if (spec.flag === undefined) continue;
    // Its own entry: the flag at the start of a line, not a mention in another's words.
    const start = result.stdout.search(new RegExp(`^ {2}(?:-\\w, | {4})--${spec.flag}\\b(?!-)`, 'm'));
    t.true(start >= 0, spec.flag);
    const shown = helpDefault(spec);
    if (shown === undefined) continue;
    // The entry runs up to the next flag or the end of its group.
    const rest = result.stdout.slice(start + 1);
    const entry = rest.slice(0, rest.search(/\n(?: {2}-\w, | {6}--|\n)/));
    t.true(entry.replace(/\s+/g, ' ').includes(`(default: ${shown})`), `${spec.flag}: ${entry}`);
  }
  t.regex(result.stdout, /--kill-timeout D +time between the stop signal and SIGKILL \(default: 8s\)/);
});

test('--help: no word glued to the next, no line too long, each example command whole on its line', async (t) => {
  const result = await runKeepalive(['--help']);
  const lines = result.stdout.trimEnd().split('\n');
  t.true(lines.every((line) => line.length <= 100), lines.find((line) => line.length > 100));
  t.notRegex(result.stdout, /\w\[(boolean|string)\]/);
  t.regex(result.stdout, /other\s+details/);
  for (const command of ['keepalive --restart on-failure --max-restarts 5 -- ./worker.sh', 'keepalive --pidfile app.pid --detach -- node app.js']) {
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
