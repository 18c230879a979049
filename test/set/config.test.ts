// The config file reader: what a file gives each process, and every kind of bad input as the one
// line keepalive says, with the file, the line, the key and what is accepted.
import test from 'ava';
import { readConfig } from '../../src/set/config.js';
import { emptyLayer, type SetDefaults } from '../../src/set/set-rules.js';
import type { ProcessOptions } from '../../src/set/types.js';

const defaults = (flags = emptyLayer()): SetDefaults => ({
  flags,
  env: { PATH: '/bin' },
  baseDir: '/srv/app',
  subreaper: true,
});

const read = (text: string, given = defaults()): ProcessOptions[] => [
  ...readConfig('keepalive.yaml', text, given).processes,
];

/** The text of the one line keepalive would say for `text`. */
function problem(t: { throws: (fn: () => unknown) => unknown }, text: string): string {
  const error = t.throws(() => read(text)) as Error & { exitStatus?: number };
  return `${error.message} [${error.exitStatus}]`;
}

const CONTRACT = `# keepalive.yaml
restart: on-failure          # a key at the top level is the default for every process
processes:
  db:
    command: ["postgres", "-D", "/data"]   # an argv list, or a string run by \`sh -c\`
    health-cmd: pg_isready
  web:
    command: node server.js
    depends-on: { db: healthy }           # started | ready | healthy | completed
    essential: true
    heartbeat: 5s
    env: { PORT: "3000" }
    user: www-data
  migrate:
    command: ./migrate.sh
    restart: never
  worker:
    command: ./worker.sh
    depends-on: { migrate: completed, web: ready }
`;

test("the issue's example: each process's options, in the file's order", (t) => {
  const [db, web, migrate, worker] = read(CONTRACT) as [
    ProcessOptions,
    ProcessOptions,
    ProcessOptions,
    ProcessOptions,
  ];
  t.deepEqual(
    read(CONTRACT).map((options) => options.name),
    ['db', 'web', 'migrate', 'worker'],
  );
  t.like(db, { command: 'postgres', args: ['-D', '/data'], healthCmd: 'pg_isready' });
  t.is(db.restart, 'on-failure');
  t.like(web, {
    command: 'sh',
    args: ['-c', 'node server.js'],
    essential: true,
    heartbeat: 5000,
    user: 'www-data',
  });
  t.deepEqual(web.env, { PATH: '/bin', PORT: '3000' });
  t.deepEqual(web.dependsOn, { db: { condition: 'healthy', restart: false } });
  t.is(migrate.restart, 'never');
  t.deepEqual(worker.dependsOn, {
    migrate: { condition: 'completed', restart: false },
    web: { condition: 'ready', restart: false },
  });
});

test('values are read as their flags read them', (t) => {
  const [one] = read(`processes:
  one:
    command: x
    success-codes: [0, 3, TERM]
    stop-signal: 15
    hang-signal: quit
    max-restarts: 3
    max-memory: 1.5GB
    kill-timeout: 0
    delay: 250ms
    user: 33
    depends-on: []
    ready-timeout: 2m
`) as [ProcessOptions];
  t.like(one, {
    successCodes: [0, 3],
    successSignals: ['SIGTERM'],
    stopSignal: 'SIGTERM',
    hangSignal: 'SIGQUIT',
    maxRestarts: 3,
    maxMemory: 1_500_000_000,
    killTimeout: 0,
    delay: 250,
    user: 33,
    readyTimeout: 120_000,
  });
  const [two] = read('processes:\n  two:\n    command: x\n    success-codes: "0,SIGHUP"\n') as [
    ProcessOptions,
  ];
  t.like(two, { successCodes: [0], successSignals: ['SIGHUP'] });
});

test('precedence: built-in defaults, then flags, then the top level, then the process', (t) => {
  const flags = emptyLayer();
  flags.values = { killTimeout: 1000, delay: 2000, restart: 'never' };
  const [a, b] = read(
    `kill-timeout: 3s
restart: on-failure
env: { A: top, B: top }
processes:
  a:
    command: x
    restart: always
    env: { B: own }
  b:
    command: y
`,
    defaults(flags),
  ) as [ProcessOptions, ProcessOptions];
  t.like(a, { killTimeout: 3000, delay: 2000, restart: 'always' });
  t.deepEqual(a.env, { PATH: '/bin', A: 'top', B: 'own' });
  t.like(b, { killTimeout: 3000, delay: 2000, restart: 'on-failure' });
});

test("a process's own choice replaces a conflicting default; one it cannot use is dropped", (t) => {
  const [a, b] = read(
    `health-url: http://localhost:8080/
health-interval: 5s
processes:
  a:
    command: x
    health-cmd: "true"
  b:
    command: y
    health-url: null
`.replace('    health-url: null\n', ''),
  ) as [ProcessOptions, ProcessOptions];
  t.like(a, { healthCmd: 'true', healthInterval: 5000 });
  t.is(a.healthUrl, undefined);
  t.like(b, { healthUrl: 'http://localhost:8080/', healthInterval: 5000 });
  const [c] = read('heartbeat-grace: 5s\nprocesses:\n  c:\n    command: x\n') as [ProcessOptions];
  t.is(c.heartbeatGrace, undefined);
});

test("a relative cwd is from the file's directory; the CLI's notify access and subreaper", (t) => {
  const [a, b] = read(
    'processes:\n  a:\n    command: x\n    cwd: web\n  b:\n    command: x\n    cwd: /tmp\n',
  ) as [ProcessOptions, ProcessOptions];
  t.is(a.cwd, '/srv/app/web');
  t.is(b.cwd, '/tmp');
  t.like(a, { notifyAccess: 'all', subreaper: true });
});

test('anchors and aliases are followed; x- keys (for anchors) are skipped', (t) => {
  const [a, b] = read(`x-env: &env { A: "1" }
processes:
  a:
    command: x
    env: *env
  b:
    command: &cmd [node, b.js]
    x-note: anything
  c:
    command: *cmd
`) as [ProcessOptions, ProcessOptions];
  t.deepEqual(a.env, { PATH: '/bin', A: '1' });
  t.like(b, { command: 'node', args: ['b.js'] });
});

const PROBLEMS: ReadonlyArray<readonly [string, string, string]> = [
  [
    'a dependency that is not a process, with a near name',
    'processes:\n  db:\n    command: x\n  web:\n    command: y\n    depends-on: { dbb: started }\n',
    'keepalive.yaml:6: processes.web.depends-on: "dbb" is not a process; did you mean "db"?',
  ],
  [
    'a dependency that is not a process, nothing near',
    'processes:\n  db:\n    command: x\n  web:\n    command: y\n    depends-on: [cache]\n',
    'keepalive.yaml:6: processes.web.depends-on: "cache" is not a process; the processes ' +
      'are db, web',
  ],
  [
    'an unknown key, with a near one',
    'processes:\n  db:\n    command: x\n    heartbeet: 5s\n',
    'keepalive.yaml:4: processes.db.heartbeet: unknown key; did you mean "heartbeat"?',
  ],
  [
    'an unknown key at the top level',
    'proceses:\n  db:\n    command: x\n',
    'keepalive.yaml:1: proceses: unknown key; did you mean "processes"?',
  ],
  [
    'an unknown key, nothing near',
    'processes:\n  db:\n    command: x\n    replicas: 3\n',
    "keepalive.yaml:4: processes.db.replicas: unknown key; the keys are keepalive's flags " +
      'without their dashes (keepalive --help) and command, depends-on, essential, ' +
      'ready-timeout, env, cwd',
  ],
  [
    "keepalive's own option",
    'log-format: json\nprocesses:\n  db:\n    command: x\n',
    "keepalive.yaml:1: log-format: keepalive's own option, not a process's: give it as a flag " +
      '(--log-format)',
  ],
  [
    'a cycle',
    'processes:\n  web:\n    command: x\n    depends-on: { worker: ready }\n' +
      '  worker:\n    command: y\n    depends-on: { web: started }\n',
    'keepalive.yaml:4: processes.web.depends-on: a cycle: web -> worker -> web; one of them ' +
      'must not wait for the next',
  ],
  [
    'a process waiting for itself',
    'processes:\n  web:\n    command: x\n    depends-on: { web: started }\n',
    'keepalive.yaml:4: processes.web.depends-on: a cycle: web -> web; one of them must not ' +
      'wait for the next',
  ],
  [
    'completed on a process that restarts always (by default)',
    'processes:\n  m:\n    command: x\n  w:\n    command: y\n    depends-on: { m: completed }\n',
    'keepalive.yaml:6: processes.w.depends-on: "m" never completes: its restart is always (the ' +
      'default); give m restart: on-failure or never, or wait for it to be started or ready',
  ],
  [
    'completed on a process with restart: always',
    'processes:\n  m:\n    command: x\n    restart: always\n  w:\n    command: y\n' +
      '    depends-on:\n      m: { condition: completed, restart: true }\n',
    'keepalive.yaml:8: processes.w.depends-on: "m" never completes: its restart is always; ' +
      'give m restart: on-failure or never, or wait for it to be started or ready',
  ],
  [
    'healthy on a process without a health check',
    'processes:\n  m:\n    command: x\n  w:\n    command: y\n    depends-on: { m: healthy }\n',
    'keepalive.yaml:6: processes.w.depends-on: "m" has no health check to pass; give m ' +
      'health-cmd or health-url, or wait for it to be started or ready',
  ],
  [
    'a condition that is not one',
    'processes:\n  m:\n    command: x\n  w:\n    command: y\n    depends-on: { m: up }\n',
    'keepalive.yaml:6: processes.w.depends-on.m: "up": expected process names, each with one ' +
      'of started, ready, healthy, completed, such as { db: healthy }, or a list of names ' +
      '(started)',
  ],
  [
    'a bare number for a duration',
    'processes:\n  db:\n    command: x\n    heartbeat: 5\n',
    'keepalive.yaml:4: processes.db.heartbeat: 5: expected a duration with a unit, such as ' +
      '250ms, 1s, 1.5m or 2h (did you mean 5s or 5ms?)',
  ],
  [
    'a bare number for a size',
    'processes:\n  db:\n    command: x\n    max-memory: 512\n',
    'keepalive.yaml:4: processes.db.max-memory: 512: expected a size with a unit, such as ' +
      '512MB, 1.5GB or 800MiB (did you mean 512MB?)',
  ],
  [
    'a word that is not one of the words',
    'restart: sometimes\nprocesses:\n  db:\n    command: x\n',
    'keepalive.yaml:1: restart: "sometimes": expected one of always, on-failure, never',
  ],
  [
    'an exit code out of range',
    'processes:\n  db:\n    command: x\n    success-codes: [0, 300]\n',
    'keepalive.yaml:4: processes.db.success-codes: [0,300]: "300" is neither an exit code ' +
      '(0-255) nor a signal name; use a list such as 0,3,SIGTERM',
  ],
  [
    'a signal that is not one',
    'processes:\n  db:\n    command: x\n    stop-signal: SIGFOO\n',
    'keepalive.yaml:4: processes.db.stop-signal: "SIGFOO": expected a signal name or number, ' +
      'such as SIGTERM, TERM or 15',
  ],
  [
    'a switch that is not true or false',
    'processes:\n  db:\n    command: x\n    essential: yes please\n',
    'keepalive.yaml:4: processes.db.essential: "yes please": expected true or false',
  ],
  [
    'a key with no value',
    'processes:\n  db:\n    command: x\n    heartbeat:\n',
    'keepalive.yaml:4: processes.db.heartbeat: has no value',
  ],
  [
    'a key that needs another',
    'processes:\n  db:\n    command: x\n    health-interval: 5s\n',
    'keepalive.yaml:4: processes.db: health-interval needs health-url or health-cmd',
  ],
  [
    'two keys that exclude each other',
    'processes:\n  db:\n    command: x\n    health-url: http://x/\n    health-cmd: y\n',
    'keepalive.yaml:5: processes.db: health-url and health-cmd cannot be used together; choose one',
  ],
  [
    'a maximum below its minimum',
    'processes:\n  db:\n    command: x\n    delay: 5s\n    max-delay: 1s\n',
    'keepalive.yaml:5: processes.db: max-delay "1s" is shorter than delay "5s"; make ' +
      'max-delay at least delay',
  ],
  [
    'no command',
    'processes:\n  db:\n    cwd: /tmp\n',
    'keepalive.yaml:2: processes.db: no command; add command: (a string run by sh -c, or an ' +
      'argv list)',
  ],
  [
    'an empty command',
    'processes:\n  db:\n    command: []\n',
    'keepalive.yaml:3: processes.db.command: []: expected a command: a string run by sh -c, or ' +
      'an argv list such as ["node", "server.js"]',
  ],
  [
    'a command at the top level',
    'command: x\nprocesses:\n  db:\n    command: x\n',
    "keepalive.yaml:1: command: a process's own key: put it under processes.NAME, not at the " +
      'top level',
  ],
  [
    'a name key in a process',
    'processes:\n  db:\n    command: x\n    name: database\n',
    'keepalive.yaml:4: processes.db.name: a process is named by its key under processes:; ' +
      'remove name',
  ],
  [
    'a process name with a space',
    'processes:\n  my app:\n    command: x\n',
    'keepalive.yaml:2: processes."my app": not a process name: use letters, digits, - and _ ' +
      '(1 to 64 of them)',
  ],
  [
    'a process that is not a map',
    'processes:\n  web: node server.js\n',
    'keepalive.yaml:2: processes.web: expected its keys, such as command: ./worker.sh (a string ' +
      'run by sh -c, or an argv list)',
  ],
  [
    'missing processes',
    'restart: always\n',
    'keepalive.yaml:1: processes: missing; name each process under processes:, with its command',
  ],
  [
    'empty processes',
    'restart: always\nprocesses:\n',
    'keepalive.yaml:2: processes: empty; name each process under processes:, with its command',
  ],
  [
    'processes that are a list',
    'processes:\n  - web\n',
    'keepalive.yaml:1: processes: expected process names, each with its keys (command: ...)',
  ],
  [
    'an empty file',
    '',
    'keepalive.yaml:1: the file is empty; it needs processes:, each name with its command',
  ],
  [
    'a YAML syntax error',
    'processes:\n  db:\n    command: [x,\n  web:\n',
    'keepalive.yaml:4: not valid YAML: Flow sequence in block collection must be sufficiently ' +
      'indented and end with a ]',
  ],
  [
    'an alias with no anchor',
    'processes:\n  db:\n    command: x\n    env: *env\n',
    'keepalive.yaml:4: not valid YAML: the alias *env names no anchor set before it',
  ],
  [
    'an alias with no anchor, within a value',
    'processes:\n  db:\n    command: [x, *arg]\n',
    'keepalive.yaml:3: not valid YAML: the alias names no anchor set before it',
  ],
  [
    'a key given twice',
    'processes:\n  db:\n    command: x\n    command: y\n',
    'keepalive.yaml:4: not valid YAML: Map keys must be unique',
  ],
];

for (const [what, text, line] of PROBLEMS) {
  test(`bad input, ${what}: one line, status 2`, (t) => {
    t.is(problem(t, text), `${line} [2]`);
  });
}

test('ready on a process without wait-ready is accepted: it is ready once it has started', (t) => {
  const [, w] = read(
    'processes:\n  m:\n    command: x\n  w:\n    command: y\n    depends-on: { m: ready }\n',
  ) as [ProcessOptions, ProcessOptions];
  t.deepEqual(w.dependsOn, { m: { condition: 'ready', restart: false } });
});

test('a flag given with the file is said as the flag in a problem', (t) => {
  const flags = emptyLayer();
  flags.values = { delay: 5000 };
  flags.origins.set('delay', { kind: 'flag', typed: '"5s"' });
  const error = t.throws(() =>
    read('processes:\n  db:\n    command: x\n    max-delay: 1s\n', defaults(flags)),
  );
  t.is(
    error?.message,
    'keepalive.yaml:4: processes.db: max-delay "1s" is shorter than --delay "5s"; make ' +
      'max-delay at least --delay',
  );
});

test("output-dir: each process's DIR/NAME.log, from the file's directory; its own output: wins", (t) => {
  const [web, worker, jobs] = read(
    `output-dir: logs
output-max-size: 1MB
output-keep: 3
processes:
  web:
    command: x
  worker:
    command: y
    output: /var/log/worker.log
    output-compress: true
  jobs:
    command: z
    output-dir: /var/log/jobs
    timestamps: true
`,
  ) as [ProcessOptions, ProcessOptions, ProcessOptions];
  t.like(web, { output: '/srv/app/logs/web.log', outputDir: '/srv/app/logs' });
  t.like(web, { outputMaxSize: 1_000_000, outputKeep: 3 });
  t.like(worker, { output: '/var/log/worker.log', outputCompress: true, outputKeep: 3 });
  t.is(worker.outputDir, undefined, 'its own file: nothing to make');
  t.like(jobs, { output: '/var/log/jobs/jobs.log', outputDir: '/var/log/jobs', timestamps: true });
  const [plain] = read('output-keep: 3\nprocesses:\n  a:\n    command: x\n') as [ProcessOptions];
  t.is(plain.output, undefined);
  t.is(plain.outputKeep, undefined, 'a default it cannot use (no output file) is dropped');
});

test('one output file for two processes is refused: a top-level output:, or --output with the file', (t) => {
  t.is(
    problem(t, 'output: all.log\nprocesses:\n  a:\n    command: x\n  b:\n    command: y\n'),
    "keepalive.yaml:5: processes.b: its output file /srv/app/all.log is a's too; each process " +
      'needs a file of its own (output-dir: DIR gives each DIR/NAME.log) [2]',
  );
  const flags = emptyLayer();
  flags.values = { output: '/tmp/all.log' };
  flags.origins.set('output', { kind: 'flag', typed: '"/tmp/all.log"' });
  const error = t.throws(() =>
    read('processes:\n  a:\n    command: x\n  b:\n    command: y\n', defaults(flags)),
  );
  t.regex(error?.message ?? '', /processes\.b: its output file \/tmp\/all\.log is a's too/);
  t.is(
    problem(t, 'processes:\n  a:\n    command: x\n    output: a.log\n    output-dir: logs\n'),
    'keepalive.yaml:5: processes.a: output and output-dir cannot be used together; choose one [2]',
  );
});
