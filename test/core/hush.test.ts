// When a beating child's pipe is hushed, and how a look dates what it finds: pure, so properties.
import test from 'ava';
import fc from 'fast-check';
import { HUSH_MAX_BYTES, LOOK_MS, lookAt, mayHush, mustListen, writtenAt } from '../../src/core/hush.js';

test('a look dates the bytes within [last empty look, now]: never before the look that found the pipe empty, never after now', (t) => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.option(fc.double({ min: -1e7, max: 1e7, noNaN: true })), (lookedAt, since, ago) => {
      const now = lookedAt + since;
      const at = writtenAt(now, ago ?? undefined, lookedAt);
      return at >= lookedAt && at <= now;
    }),
  );
  t.pass();
});

test('a look dates the bytes a coarse tick late, never early; a wall clock that jumped, or no time, says now', (t) => {
  // Written 300 ms before a look at 10,000, the pipe found empty at 9,000: counted 10 ms later.
  t.is(writtenAt(10_000, 300, 9000), 9710);
  // Within the tick: now.
  t.is(writtenAt(10_000, 4, 9000), 10_000);
  // Before the last empty look (the wall clock jumped forward): now, so no verdict comes early.
  t.is(writtenAt(10_000, 5000, 9000), 10_000);
  // After now (the wall clock jumped back): now.
  t.is(writtenAt(10_000, -2000, 9000), 10_000);
  t.is(writtenAt(10_000, undefined, 9000), 10_000);
});

test('only small chunks of beats, coming faster than a look, hush the pipe; anything else makes it ring', (t) => {
  const beats = { at: 1000, beatsOnly: true, bytes: 3 };
  t.true(mayHush(beats, 700));
  t.false(mayHush(beats, 1000 - LOOK_MS), 'a beater slower than a look costs fewer wake-ups ringing');
  t.false(mayHush(beats, Number.NEGATIVE_INFINITY), 'the first chunk: no pace known yet');
  t.false(mayHush({ ...beats, beatsOnly: false }, 700));
  t.false(mayHush({ ...beats, bytes: HUSH_MAX_BYTES + 1 }, 700));
  t.false(mustListen(beats));
  t.true(mustListen({ ...beats, beatsOnly: false }));
  t.true(mustListen({ ...beats, bytes: HUSH_MAX_BYTES + 1 }));
});

test('the next look is at the deadline, and no later than a look after the last one', (t) => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true }), (deadline, lookedAt) => {
      const at = lookAt(deadline, lookedAt);
      return at <= deadline && at <= lookedAt + LOOK_MS && (at === deadline || at === lookedAt + LOOK_MS);
    }),
  );
  t.pass();
});
