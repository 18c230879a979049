// When a beating child's pipe is hushed, and how a look dates what it finds: pure, so properties.
import test from 'ava';
import fc from 'fast-check';
import { clockStepped, HUSH_MAX_BYTES, lateStampAt, LOOK_MS, lookAt, mayHush, mustListen, writtenAt } from '../../src/core/hush.js';

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
  // The pace: 100 bytes a millisecond would pile up 100 KB in a look; 11 bytes every 10 ms, 1.1 KB.
  t.false(mayHush({ ...beats, bytes: 100 }, 999));
  t.true(mayHush({ ...beats, bytes: 11 }, 990));
  t.false(mayHush({ ...beats, bytes: 50 }, 990));
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

test('a wall clock that moved against the monotonic one by more than NTP\'s slewing can is a step', (t) => {
  t.false(clockStepped(1000, 1001.5));
  t.true(clockStepped(1000, 1800));
  t.true(clockStepped(1000, 200));
});

test('a look that found nothing counts a late stamp only when it is later than the last beat counted, never in the future', (t) => {
  // Stamped 200 ms before a look at 10,000, after a last beat counted at 9,500: counted at 9,810.
  t.is(lateStampAt(10_000, 200, 9500), 9810);
  // The stamp of the beat already counted (at 9,810): nothing new.
  t.is(lateStampAt(10_000, 200, 9810), undefined);
  t.is(lateStampAt(10_000, 5, 9500), 10_000);
  t.is(lateStampAt(10_000, undefined, 9500), undefined);
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true }), (now, ago, last) => {
      const at = lateStampAt(now, ago, last);
      return at === undefined || (at > last && at <= now);
    }),
  );
});
