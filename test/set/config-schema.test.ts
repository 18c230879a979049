// The shipped JSON Schema (keepalive.schema.json, written by the build from the option table):
// an editor that checks a file with it accepts what keepalive accepts and flags a bad key.
import test from 'ava';
import { Ajv } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { FILE_KEYS } from '../../src/set/config-keys.js';
import { readConfig } from '../../src/set/config.js';
import { emptyLayer } from '../../src/set/set-rules.js';

const defaults = { flags: emptyLayer(), env: {}, baseDir: '/srv', subreaper: true };

const ROOT = new URL('../../../', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('keepalive.schema.json', ROOT), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const EXAMPLES = new URL('examples/set/', ROOT);

const FULL = `
restart: on-failure
kill-timeout: 5s
success-codes: [0, 3, SIGTERM]
env: { LANG: C.UTF-8 }
x-common: &common { heartbeat: 10s }
processes:
  db:
    command: ["postgres", "-D", "/data"]
    health-cmd: pg_isready
    health-interval: 5s
    max-memory: 1.5GB
    stop-signal: SIGINT
  web:
    command: node server.js
    depends-on: { db: healthy }
    essential: true
    heartbeat: 5s
    heartbeat-grace: 1m
    hang-signal: SIGABRT
    env: { PORT: 3000 }
    user: www-data
    group: 33
    wait-ready: true
    notify-access: main
    notify-fd: 4
    ready-timeout: 90s
    on-exit: ./notify.sh
    on-exit-timeout: 20s
    max-restarts: 5
    restart-window: 1m
    delay: 250ms
    max-delay: 30s
    reset-after: 1m
    cwd: web
  migrate:
    command: ./migrate.sh
    restart: never
  worker:
    command: ./worker.sh
    depends-on:
      migrate: completed
      web: { condition: ready, restart: true }
    success-codes: "0,SIGTERM"
`;

test('the schema accepts a full file and the examples', (t) => {
  t.true(validate(parse(FULL)), JSON.stringify(validate.errors));
  t.is(readConfig('full.yaml', FULL, defaults).processes.length, 4);
  const files = readdirSync(EXAMPLES).filter((file) => file.endsWith('.yaml'));
  t.true(files.length >= 2);
  for (const file of files) {
    const valid = validate(parse(readFileSync(new URL(file, EXAMPLES), 'utf8')));
    t.true(valid, `${file}: ${JSON.stringify(validate.errors)}`);
  }
});

test('the schema knows every key of a process, each with its description', (t) => {
  const processes = (schema as { properties: { processes: { additionalProperties: object } } })
    .properties.processes.additionalProperties as {
    properties: Record<string, { description: string }>;
  };
  for (const name of FILE_KEYS.keys()) {
    t.truthy(processes.properties[name]?.description, name);
  }
});

const BAD: ReadonlyArray<readonly [string, string]> = [
  ['an unknown key', 'processes:\n  web:\n    command: x\n    heartbeet: 5s\n'],
  ['an unknown top-level key', 'proceses:\n  web:\n    command: x\n'],
  ["keepalive's own option", 'log-format: json\nprocesses:\n  web:\n    command: x\n'],
  ['a duration without a unit', 'processes:\n  web:\n    command: x\n    heartbeat: 5\n'],
  ['a size without a unit', 'processes:\n  web:\n    command: x\n    max-memory: "512"\n'],
  ['a word not among the words', 'processes:\n  web:\n    command: x\n    restart: sometimes\n'],
  [
    'a condition not among the conditions',
    'processes:\n  a:\n    command: x\n    depends-on: {b: up}\n',
  ],
  ['no command', 'processes:\n  web:\n    cwd: /tmp\n'],
  ['no processes', 'restart: always\n'],
  ['a bad process name', 'processes:\n  my app:\n    command: x\n'],
];

for (const [what, text] of BAD) {
  test(`the schema rejects ${what}, as keepalive does`, (t) => {
    t.false(validate(parse(text)));
    t.throws(() => readConfig('bad.yaml', text, defaults));
  });
}
