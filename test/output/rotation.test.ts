// rotateOutput(): what `keepalive rotate` is told of one process, from its supervisor's file target.
import { EventEmitter } from 'node:events';
import test from 'ava';
import type { OutputEvent } from '../../src/core/events.js';
import { rotateOutput, type RotatableProcess } from '../../src/output/rotation.js';
import type { FileOutputSettings } from '../../src/output/types.js';

const settings = (stderrPath?: string): FileOutputSettings => ({
  path: '/logs/web.log',
  stderrPath,
  maxSize: 10_000_000,
  keep: 5,
  maxAge: undefined,
  compress: false,
  timestamps: false,
  format: 'text',
  lossless: false,
});

/** A supervisor whose file target's rotate() does `rotate`, with its output events. */
function running(rotate: (events: EventEmitter) => Promise<void>): RotatableProcess {
  const events = new EventEmitter();
  return Object.assign(events, { outputFile: { rotate: () => rotate(events) } });
}

test('no --output: no file; not running now: passed over; otherwise rotated, both files named', async (t) => {
  t.deepEqual(await rotateOutput('web', undefined, undefined), { name: 'web', file: null });
  t.deepEqual(await rotateOutput('web', settings(), undefined), {
    name: 'web',
    file: '/logs/web.log',
    skipped: 'does not run now',
  });
  let rotations = 0;
  const web = running(async () => void rotations++);
  t.deepEqual(await rotateOutput('web', settings('/logs/web.err'), web), {
    name: 'web',
    file: '/logs/web.log, /logs/web.err',
  });
  t.is(rotations, 1);
});

test('a rotated name left alone, a failure, a throw: each said as the problem', async (t) => {
  const planted: OutputEvent = {
    name: 'web',
    file: '/logs/web.log',
    kind: 'left-alone',
    path: '/logs/web.log.1',
    why: 'it is a symbolic link',
  };
  const web = running(async (events) => void events.emit('output', planted));
  t.deepEqual(await rotateOutput('web', settings(), web), {
    name: 'web',
    file: '/logs/web.log',
    problem: 'left /logs/web.log.1 alone: it is a symbolic link',
  });
  t.is((web as unknown as EventEmitter).listenerCount('output'), 0, 'no listener left behind');
  const broken = running(async () => {
    throw new Error('EROFS: read-only file system');
  });
  t.like(await rotateOutput('web', settings(), broken), {
    problem: 'EROFS: read-only file system',
  });
});
