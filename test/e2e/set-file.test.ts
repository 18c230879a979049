// keepalive -c FILE and --procfile FILE through the installed command: --check prints the start
// order and starts nothing; a bad file is one line and status 2, before anything starts; a
// Procfile runs each line through sh -c with the command line's flags.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keepalive, PREFIX, runKeepalive } from '../helpers/keepalive.js';

const EXAMPLES = new URL('../../../examples/set/', import.meta.url).pathname;
const directory = mkdtempSync(join(tmpdir(), 'keepalive-set-'));
test.after.always(() => rmSync(directory, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

test('--check: the container example, one line a process with what it waits for', async (t) => {
  const result = await runKeepalive(['-c', `${EXAMPLES}container.yaml`, '--check']);
  t.is(result.stderr, '');
  t.is(
    result.stdout,
    'app     starts at once; essential\n' +
      'worker  waits for app to be ready\n' +
      'proxy   waits for app to be healthy\n',
  );
  t.is(result.status, 0);
});

test('--check: the cron guardian example, dependencies first whatever the file order', async (t) => {
  const result = await runKeepalive(['--config', `${EXAMPLES}cron-guardian.yaml`, '--check']);
  t.is(result.stderr, '');
  t.is(
    result.stdout,
    'migrate  starts at once\n' +
      'queue    waits for migrate to complete\n' +
      'report   waits for migrate to complete, queue to start\n',
  );
  t.is(result.status, 0);
});

test('--check: the order follows the waits, and a ready without wait-ready is said', async (t) => {
  const path = file(
    'order.yaml',
    'processes:\n  worker:\n    command: ./w.sh\n    depends-on: { web: ready }\n' +
      '  web:\n    command: ./web.sh\n    depends-on: { db: { condition: started, restart: true } }\n' +
      '  db:\n    command: ./db.sh\n',
  );
  const result = await runKeepalive(['-c', path, '--check']);
  t.is(
    result.stdout,
    'db      starts at once\n' +
      'web     waits for db to start, restarted with it\n' +
      'worker  waits for web to be ready (started: no wait-ready)\n',
  );
  t.is(result.status, 0);
});

test('--procfile --check: the example Procfile, in its order', async (t) => {
  const result = await runKeepalive(['--procfile', `${EXAMPLES}Procfile`, '--check']);
  t.is(result.stderr, '');
  t.is(result.stdout, 'web     starts at once\nworker  starts at once\n');
  t.is(result.status, 0);
});

const BAD: ReadonlyArray<readonly [string, () => string[], () => string]> = [
  [
    'a dependency that is not a process',
    () => [
      '-c',
      file(
        'typo.yaml',
        'processes:\n  db:\n    command: x\n  web:\n    command: y\n' +
          '    depends-on: { dbb: started }\n',
      ),
      '--check',
    ],
    () =>
      `${directory}/typo.yaml:6: processes.web.depends-on: "dbb" is not a process; did you mean "db"?`,
  ],
  [
    'a cycle, without --check',
    () => [
      '-c',
      file(
        'cycle.yaml',
        'processes:\n  web:\n    command: x\n    depends-on: [worker]\n' +
          '  worker:\n    command: y\n    depends-on: [web]\n',
      ),
    ],
    () =>
      `${directory}/cycle.yaml:4: processes.web.depends-on: a cycle: web -> worker -> web; one ` +
      'of them must not wait for the next',
  ],
  [
    'a YAML syntax error',
    () => ['-c', file('syntax.yaml', 'processes:\n  web:\n    command: "x\n'), '--check'],
    () => `${directory}/syntax.yaml:4: not valid YAML: Missing closing "quote`,
  ],
  [
    'a file that cannot be read',
    () => ['-c', join(directory, 'missing.yaml'), '--check'],
    () => `${directory}/missing.yaml: cannot read it: no such file or directory (ENOENT)`,
  ],
  [
    'a bad Procfile line',
    () => ['--procfile', file('Procfile', 'web: node a.js\nworker ./w.sh\n'), '--check'],
    () =>
      `${directory}/Procfile:2: "worker ./w.sh" is not "name: command"; write each process as ` +
      'web: node server.js',
  ],
  [
    '-c with a command',
    () => ['-c', `${EXAMPLES}container.yaml`, '--', 'node', 'app.js'],
    () =>
      '-c/--config runs the processes its file names: give no command with it ("node" came after the options)',
  ],
  [
    '--check without a file',
    () => ['--check', '--', 'true'],
    () => '--check needs -c/--config or --procfile',
  ],
  [
    'a per-process flag with a bad value',
    () => ['-c', `${EXAMPLES}container.yaml`, '--heartbeat', '5'],
    () =>
      '--heartbeat "5": expected a duration with a unit, such as 250ms, 1s, 1.5m or 2h (did ' +
      'you mean 5s or 5ms?)',
  ],
];

for (const [what, args, line] of BAD) {
  test(`bad set input, ${what}: one line, status 2, nothing started`, async (t) => {
    const result = await runKeepalive(args());
    t.is(result.stderr, `keepalive: ${line()}\n`);
    t.is(result.stdout, '');
    t.is(result.status, 2);
  });
}

test('a flag with -c is a default under the file: the file wins, a flag fills in', async (t) => {
  const path = file(
    'flags.yaml',
    'delay: 5s\nprocesses:\n  a:\n    command: x\n    max-delay: 10s\n',
  );
  // --max-delay 1s is below the file's delay, but the process's own max-delay wins over it.
  const fine = await runKeepalive(['-c', path, '--max-delay', '1s', '--check']);
  t.is(fine.status, 0, fine.stderr);
  // --delay 20s is replaced by the file's 5s: nothing is below its minimum.
  const also = await runKeepalive(['-c', path, '--delay', '20s', '--check']);
  t.is(also.status, 0, also.stderr);
  const other = file('flags2.yaml', 'processes:\n  a:\n    command: x\n    max-delay: 1s\n');
  const refused = await runKeepalive(['-c', other, '--delay', '5s', '--check']);
  t.is(
    refused.stderr,
    `keepalive: ${other}:4: processes.a: max-delay "1s" is shorter than --delay "5s"; make ` +
      'max-delay at least --delay\n',
  );
  t.is(refused.status, 2);
});

test('the YAML parser is a bundle file of its own, loaded by -c and never by a single command', async (t) => {
  const dist = join(PREFIX, 'lib', 'node_modules', 'keepalive-supervisor', 'dist');
  t.false(readFileSync(join(dist, 'keepalive.cjs'), 'utf8').includes('class YAMLParseError'));
  // Node's own module loader, asked by a preloaded hook which files keepalive requires.
  const loaded = join(directory, 'loaded');
  const hook = file(
    'hook.cjs',
    "const Module = require('node:module'); const fs = require('node:fs');\n" +
      'const load = Module._load;\n' +
      'Module._load = function (request, ...rest) {\n' +
      `  fs.appendFileSync(${JSON.stringify(loaded)}, request + '\\n');\n` +
      '  return load.call(this, request, ...rest);\n' +
      '};\n',
  );
  const env = { NODE_OPTIONS: `--require ${hook}` };
  const single = await runKeepalive(['-q', '--restart', 'never', '--', 'true'], { env });
  t.is(single.status, 0, single.stderr);
  t.false(readFileSync(loaded, 'utf8').includes('keepalive-yaml.cjs'));
  t.true(readFileSync(loaded, 'utf8').includes('keepalive.cjs'));
  rmSync(loaded);
  const check = await runKeepalive(['-c', `${EXAMPLES}container.yaml`, '--check'], { env });
  t.is(check.status, 0, check.stderr);
  t.true(readFileSync(loaded, 'utf8').includes('keepalive-yaml.cjs'));
});

test('the package ships the JSON Schema', (t) => {
  const schema = join(
    PREFIX,
    'lib',
    'node_modules',
    'keepalive-supervisor',
    'keepalive.schema.json',
  );
  const parsed = JSON.parse(readFileSync(schema, 'utf8')) as { required: string[] };
  t.deepEqual(parsed.required, ['processes']);
});

test("--procfile: each line through sh -c, output prefixed, flags as every process's defaults", async (t) => {
  const path = file(
    'Procfile.run',
    '# two jobs\nfirst: echo one $((1 + 1))\n\nsecond: echo two; exit 3\n',
  );
  const keepalive = new Keepalive(['--procfile', path, '--restart', 'never']);
  t.teardown(() => keepalive.signal('SIGKILL'));
  const ended = await keepalive.ended;
  t.true(keepalive.stdout.all.includes('first  | one 2'), keepalive.stdout.text);
  t.true(keepalive.stdout.all.includes('second | two'), keepalive.stdout.text);
  t.regex(
    keepalive.stderr.text,
    /second\[\d+\] exited with code 3; not restarting \(--restart never\)/,
  );
  // No essential process: the status of the first that failed.
  t.is(ended.status, 3);
});
