import test from 'ava';
import { colorLevel, createLogger, exitMessage } from '../src/log.js';

test('colour: only on a terminal; NO_COLOR turns it off; FORCE_COLOR turns it on', (t) => {
  t.is(colorLevel({}, false), 0);
  t.true(colorLevel({}, true) >= 1);
  t.is(colorLevel({ NO_COLOR: '1' }, true), 0);
  t.is(colorLevel({ NO_COLOR: '' }, false), 0);
});

test('text lines start with "keepalive:"; levels filter them', (t) => {
  const lines: string[] = [];
  const write = (line: string): void => void lines.push(line);
  createLogger({ format: 'text', level: 'normal', colorLevel: 0, write }).line('debug', 'forward', 'hidden');
  createLogger({ format: 'text', level: 'quiet', colorLevel: 0, write }).line('warn', 'exit', 'hidden too');
  createLogger({ format: 'text', level: 'quiet', colorLevel: 0, write }).line('error', 'exit', 'shown');
  createLogger({ format: 'text', level: 'verbose', colorLevel: 0, write }).line('debug', 'forward', 'shown in verbose');
  t.deepEqual(lines, ['keepalive: shown\n', 'keepalive: shown in verbose\n']);
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
