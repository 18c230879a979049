import test from 'ava';
import { colorLevel, createLogger } from '../src/log.js';
import { exitMessage } from '../src/log-words.js';

test('colour: only on a terminal, as deep as it says; FORCE_COLOR turns it on anywhere', (t) => {
  const terminal = (depth: number) => ({ isTTY: true, getColorDepth: () => depth });
  t.is(colorLevel({}, { isTTY: false }), 0);
  t.is(colorLevel({}, terminal(1)), 0);
  t.is(colorLevel({}, terminal(4)), 1);
  t.is(colorLevel({}, terminal(24)), 3);
  t.is(colorLevel({ FORCE_COLOR: '' }, { isTTY: false }), 1);
  t.is(colorLevel({ FORCE_COLOR: '2' }, { isTTY: false }), 2);
  t.is(colorLevel({ FORCE_COLOR: '0' }, terminal(24)), 0);
});

test("NO_COLOR on a real terminal stream turns colour off (Node's own reading of the environment)", (t) => {
  const stream = {
    isTTY: true,
    getColorDepth: (env?: NodeJS.ProcessEnv) => (env?.['NO_COLOR'] ? 1 : 8),
  };
  t.is(colorLevel({ NO_COLOR: '1' }, stream), 0);
  t.is(colorLevel({}, stream), 2);
});

test('text lines start with "keepalive:"; levels filter them', async (t) => {
  const lines: string[] = [];
  const write = (line: string): void => void lines.push(line);
  (await createLogger({ format: 'text', level: 'normal', colorLevel: 0, write })).line(
    'debug',
    'forward',
    'hidden',
  );
  (await createLogger({ format: 'text', level: 'quiet', colorLevel: 0, write })).line(
    'warn',
    'exit',
    'hidden too',
  );
  (await createLogger({ format: 'text', level: 'quiet', colorLevel: 0, write })).line(
    'error',
    'exit',
    'shown',
  );
  (await createLogger({ format: 'text', level: 'verbose', colorLevel: 0, write })).line(
    'debug',
    'forward',
    'shown in verbose',
  );
  t.deepEqual(lines, ['keepalive: shown\n', 'keepalive: shown in verbose\n']);
});

test('with colour, the prefix is dimmed and warnings are yellow', async (t) => {
  const lines: string[] = [];
  const log = await createLogger({
    format: 'text',
    level: 'normal',
    colorLevel: 1,
    write: (line) => void lines.push(line),
  });
  log.line('warn', 'exit', 'careful');
  t.deepEqual(lines, ['\u001b[2mkeepalive:\u001b[22m \u001b[33mcareful\u001b[39m\n']);
});

test('an exit line says who, how it ended and what happens next', (t) => {
  const line = exitMessage({
    name: 'app',
    pid: 4321,
    outcome: { kind: 'crashed', signal: 'SIGSEGV', coreDumps: 'unknown' },
    status: 139,
    uptimeMs: 12,
    next: { action: 'restart', delayMs: 800, restart: 3, planned: false },
  });
  t.is(line, 'app[4321] crashed: SIGSEGV (Segmentation fault), status 139; restart 3 in 800ms');
});
