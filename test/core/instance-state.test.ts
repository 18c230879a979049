// Who owns a pidfile, from facts alone: no file, no process, no clock.
import test from 'ava';
import fc from 'fast-check';
import {
  boundRecord,
  judgeInstance,
  parsePid,
  parseRecord,
  parseStat,
  type InstanceRecord,
  type ProcessFacts,
  type InstanceFacts,
  type ProcStat,
} from '../../src/core/instance-state.js';
import { leftoverProcesses, type Candidate } from '../../src/core/leftover-trees.js';

const PIDFILE = '/run/app.pid';
const BOOT = '3f1e0c1a-0000-4000-8000-000000000001';

const stat = (startTime: number, more: Partial<ProcStat> = {}): ProcStat => ({ state: 'S', ppid: 1, pgid: 1, sid: 1, startTime, ...more });
const alive = (startTime: number, more: Partial<ProcStat> = {}): ProcessFacts => ({ exists: true, stat: stat(startTime, more) });
const GONE: ProcessFacts = { exists: false };

const candidate = (pid: number, startTime: number, keepalivePid: number | undefined, more: Partial<ProcStat> = {}): Candidate => ({
  pid,
  stat: stat(startTime, { pgid: pid, ...more }),
  keepalivePid,
});

const record = (more: Partial<InstanceRecord> = {}): InstanceRecord => ({
  version: 1,
  pidfile: PIDFILE,
  name: 'app',
  supervisor: { pid: 100, startTime: 5000 },
  bootId: BOOT,
  startedAt: '2030-01-01T00:00:00.000Z',
  phase: 'running',
  child: { pid: 200, startTime: 5100, startedAt: '2030-01-01T00:00:01.000Z' },
  leftovers: [],
  restarts: 0,
  lastExit: null,
  lastStatusText: '',
  stopSignal: 'SIGTERM',
  killTimeoutMs: 8000,
  ...more,
});

test('/proc/<pid>/stat is read after the last parenthesis, so any command name works', (t) => {
  const fields = Array.from({ length: 50 }, (_, index) => String(index + 3));
  fields[0] = 'S';
  const text = `4321 (a (b) c) d) ${fields.join(' ')}\n`;
  t.deepEqual(parseStat(text), { state: 'S', ppid: 4, pgid: 5, sid: 6, startTime: 22 });
  t.is(parseStat('garbage'), undefined);
  t.is(parseStat('1 (x) S'), undefined);
});

test('a pidfile holds one positive pid and nothing else', (t) => {
  t.is(parsePid('4321\n'), 4321);
  t.is(parsePid(' 17 '), 17);
  for (const bad of ['', '0', '-5', '12abc', '1 2', '99999999999']) t.is(parsePid(bad), undefined, bad);
});

test('a state file is accepted only as a version 1 record with a supervisor identity', (t) => {
  t.true(parseRecord(JSON.stringify(record())).ok);
  t.like(parseRecord('{'), { ok: false, problem: 'not JSON' });
  t.like(parseRecord('{"version":2}'), { ok: false });
  t.like(parseRecord(JSON.stringify({ ...record(), supervisor: { pid: 'x' } })), { ok: false, problem: 'no supervisor identity' });
  t.like(parseRecord('null'), { ok: false });
  for (const bad of [{ child: { pid: '1' } }, { leftovers: [{ pid: 1, startTime: 'x' }] }, { sweeping: 'all' }, { predecessors: [null] }]) {
    t.like(parseRecord(JSON.stringify({ ...record(), ...bad })), { ok: false, problem: 'a pid that is not a number' }, JSON.stringify(bad));
  }
});

/** The facts of FILE with the record above, its supervisor alive and holding FILE.lock. */
const facts = (more: Partial<InstanceFacts> = {}): InstanceFacts => ({
  pidfile: PIDFILE,
  bootId: BOOT,
  pidText: '100\n',
  record: record(),
  supervisor: alive(5000),
  lockHolders: [100],
  ...more,
});

test('no pidfile and no state: absent', (t) => {
  t.deepEqual(judgeInstance(facts({ pidText: undefined, record: undefined, supervisor: undefined, lockHolders: [] })), { kind: 'absent' });
});

test('the recorded supervisor alive with its start time, holding FILE.lock: running, whatever its name', (t) => {
  t.like(judgeInstance(facts()), { kind: 'running', pid: 100 });
  t.like(judgeInstance(facts({ lockHolders: [7, 100] })), { kind: 'running', pid: 100 }, 'a lock line of another process beside it');
});

test('stale: a dead pid, a zombie, a reused pid, a pid that does not hold the lock, an empty pidfile', (t) => {
  t.like(judgeInstance(facts({ supervisor: GONE, lockHolders: [] })), { kind: 'stale', reason: 'dead', pid: 100 });
  t.like(judgeInstance(facts({ supervisor: alive(5000, { state: 'Z' }) })), { kind: 'stale', reason: 'dead' });
  t.like(judgeInstance(facts({ supervisor: alive(9999) })), { kind: 'stale', reason: 'reused' }, 'same pid, later start: another process, even holding the lock');
  t.like(judgeInstance(facts({ record: undefined, lockHolders: [] })), { kind: 'stale', reason: 'not-keepalive' }, 'no record: the lock decides');
  t.like(judgeInstance(facts({ pidText: '\n', record: undefined, supervisor: undefined, lockHolders: [] })), { kind: 'stale', reason: 'empty', pid: undefined });
});

test("files that are not keepalive's are never taken over: unknown", (t) => {
  t.like(judgeInstance(facts({ pidText: 'my notes\n', record: undefined, supervisor: undefined, lockHolders: [] })), {
    kind: 'unknown',
    problem: 'it holds no pid: not a pidfile?',
  });
  t.like(judgeInstance(facts({ record: undefined, recordProblem: 'not JSON' })), {
    kind: 'unknown',
    problem: "the state file beside it is not keepalive's (not JSON)",
  });
});

test('a record from an earlier boot is stale, whatever now runs under its pid and start time', (t) => {
  t.like(judgeInstance(facts({ bootId: 'another-boot' })), { kind: 'stale', reason: 'rebooted', pid: 100 });
  const leftovers = leftoverProcesses({
    bootId: 'another-boot',
    record: record(),
    trees: [{ supervisor: record().supervisor, now: GONE }],
    recorded: [{ identity: { pid: 200, startTime: 5100 }, facts: alive(5100) }],
    candidates: [candidate(201, 5200, 100)],
    selfPid: 1,
  });
  t.deepEqual(leftovers, { proven: [], unproven: [] }, 'nothing from an earlier boot runs: its numbers may name anything now');
});

test('with a record, its pid and start time are not enough: the process must hold FILE.lock', (t) => {
  t.like(judgeInstance(facts({ lockHolders: [] })), { kind: 'stale', reason: 'not-keepalive', pid: 100 }, 'a live process named as the supervisor, no one holding the lock');
  t.like(judgeInstance(facts({ lockHolders: [4321] })), { kind: 'stale', reason: 'not-keepalive' }, 'another process holds it (a keepalive taking FILE over)');
  t.like(judgeInstance(facts({ lockHolders: undefined })), { kind: 'unknown', pid: 100, problem: `cannot read /proc/locks to prove that pid 100 holds ${PIDFILE}.lock` });
  t.like(judgeInstance(facts({ record: record({ pidfile: '/run/other.pid' }) })), {
    kind: 'unknown',
    problem: 'the state file beside it is for another pidfile (/run/other.pid)',
  });
});

test('a pidfile alone, naming the holder of FILE.lock: running; naming anyone else: stale', (t) => {
  t.like(judgeInstance(facts({ record: undefined })), { kind: 'running', pid: 100, record: undefined });
  t.like(judgeInstance(facts({ record: undefined, lockHolders: [4321] })), { kind: 'stale', reason: 'not-keepalive', pid: 100 });
});

test('the record is the supervisor’s own word: it wins over the pidfile', (t) => {
  t.like(judgeInstance(facts({ pidText: '999\n', lockHolders: [999, 100] })), { kind: 'running', pid: 100 });
});

test('running only for the live holder of FILE.lock with the recorded start time and boot', (t) => {
  const facts_ = fc.record({
    pidText: fc.option(fc.constantFrom('100\n', '999\n', '\n', 'x'), { nil: undefined }),
    record: fc.option(fc.record({ startTime: fc.constantFrom(5000, 6000), bootId: fc.constantFrom(BOOT, 'other'), pidfile: fc.constantFrom(PIDFILE, '/run/other.pid') }), { nil: undefined }),
    supervisor: fc.option(fc.oneof(fc.constant(GONE), fc.record({ startTime: fc.constantFrom(5000, 6000), state: fc.constantFrom('S', 'R', 'Z') }).map(({ startTime, state }) => alive(startTime, { state }))), { nil: undefined }),
    lockHolders: fc.option(fc.subarray([100, 999, 4321]), { nil: undefined }),
  });
  fc.assert(
    fc.property(facts_, (drawn) => {
      const written = drawn.record && record({ pidfile: drawn.record.pidfile, bootId: drawn.record.bootId, supervisor: { pid: 100, startTime: drawn.record.startTime } });
      const verdict = judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: drawn.pidText, record: written, supervisor: drawn.supervisor, lockHolders: drawn.lockHolders });
      if (verdict.kind !== 'running') return;
      const { supervisor } = drawn;
      if (!supervisor?.exists) throw new Error('running without a live process');
      if (supervisor.stat.state === 'Z') throw new Error('running: a zombie');
      if (!drawn.lockHolders?.includes(verdict.pid)) throw new Error(`running: pid ${verdict.pid} does not hold the lock`);
      if (written && (written.bootId !== BOOT || written.supervisor.startTime !== supervisor.stat.startTime || written.pidfile !== PIDFILE)) {
        throw new Error('running against the record');
      }
    }),
  );
  t.pass();
});

test('every field a record holds is bounded, so that it always reads back', (t) => {
  const long = 'x'.repeat(100_000);
  const bounded = boundRecord(record({
    name: long,
    lastStatusText: long,
    lastExit: { pid: 1, outcome: { kind: 'exited', code: 1 } as never, status: 1, words: long, at: '' },
    sweeping: Array.from({ length: 10_000 }, (_, pid) => ({ pid, startTime: 1 })),
  }));
  t.is(bounded.name.length, 256);
  t.true(bounded.name.endsWith('…'));
  t.is(bounded.lastStatusText.length, 4096);
  t.is(bounded.lastExit?.words.length, 1024);
  t.is(bounded.sweeping?.length, 256);
  t.true(JSON.stringify(bounded).length < 64 * 1024);
  t.deepEqual(boundRecord(record()), record(), 'a record within bounds is kept as it is');
});
