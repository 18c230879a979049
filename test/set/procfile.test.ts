import test from 'ava';
import { readProcfile } from '../../src/set/procfile.js';
import { emptyLayer, type SetDefaults } from '../../src/set/set-rules.js';

const defaults = (flags = emptyLayer()): SetDefaults => ({
  flags,
  env: {},
  baseDir: '/srv',
  subreaper: true,
});

test('name: command a line, through sh -c, comments and blank lines skipped, flags as defaults', (t) => {
  const flags = emptyLayer();
  flags.values = { killTimeout: 3000 };
  const { processes } = readProcfile(
    'Procfile',
    '# the web\nweb: node server.js --port $PORT\n\n  worker:./worker.sh  \r\nclock: sh -c "a: b"\n',
    defaults(flags),
  );
  t.deepEqual(
    processes.map(({ name, command, args, killTimeout }) => ({ name, command, args, killTimeout })),
    [
      {
        name: 'web',
        command: 'sh',
        args: ['-c', 'node server.js --port $PORT'],
        killTimeout: 3000,
      },
      { name: 'worker', command: 'sh', args: ['-c', './worker.sh'], killTimeout: 3000 },
      { name: 'clock', command: 'sh', args: ['-c', 'sh -c "a: b"'], killTimeout: 3000 },
    ],
  );
});

const PROBLEMS: ReadonlyArray<readonly [string, string, string]> = [
  [
    'a line without a colon',
    'web: node a.js\nworker ./w.sh\n',
    'Procfile:2: "worker ./w.sh" is not "name: command"; write each process as web: node server.js',
  ],
  [
    'a bad name',
    'web.1: node a.js\n',
    'Procfile:1: "web.1" is not a process name: use letters, digits, - and _ (1 to 64 of them)',
  ],
  [
    'a name twice',
    'web: a\n\nweb: b\n',
    'Procfile:3: web is named again (first on line 1); give each process its own name',
  ],
  ['no command', 'web:\n', 'Procfile:1: web has no command after its colon'],
  [
    'no processes',
    '# nothing\n\n',
    'Procfile:1: no processes; write one a line, such as web: node server.js',
  ],
];

for (const [what, text, line] of PROBLEMS) {
  test(`bad Procfile, ${what}: one line, status 2`, (t) => {
    const error = t.throws(() => readProcfile('Procfile', text, defaults())) as Error & {
      exitStatus: number;
    };
    t.is(error.message, line);
    t.is(error.exitStatus, 2);
  });
}
