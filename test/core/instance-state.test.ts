// Who owns a pidfile, from facts alone: no file, no process, no clock.
import test from 'ava';
import fc from 'fast-check';
import {
  boundRecord,
  judgeInstance,
  parsePid,
  parseRecord,
  parseStat,
  recordProcesses,
  type InstanceRecord,
  type ProcessRecord,
  type ProcessFacts,
  type InstanceFacts,
  type ProcStat,
} from '../../src/core/instance-state.js';
import { leftoverProcesses, type Candidate } from '../../src/core/leftover-trees.js';

const PIDFILE = '/run/app.pid';
const BOOT = '3f1e0c1a-0000-4000-8000-000000000001';

const stat = (startTime: number, more: Partial<ProcStat> = {}): ProcStat => ({
  state: 'S',
  ppid: 1,
  pgid: 1,
  sid: 1,
  startTime,
  ...more,
});
const alive = (startTime: number, more: Partial<ProcStat> = {}): ProcessFacts => ({
  exists: true,
  stat: stat(startTime, more),
});
const GONE: ProcessFacts = { exists: false };

const candidate = (
  pid: number,
  startTime: number,
  keepalivePid: number | undefined,
  more: Partial<ProcStat> = {},
): Candidate => ({
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
  for (const bad of ['', '0', '-5', '12abc', '1 2', '99999999999'])
    t.is(parsePid(bad), undefined, bad);
});

test('a state file is accepted only as a version 1 record with a supervisor identity', (t) => {
  t.true(parseRecord(JSON.stringify(record())).ok);
  t.like(parseRecord('{'), { ok: false, problem: 'not JSON' });
  t.like(parseRecord('{"version":2}'), { ok: false });
  t.like(parseRecord(JSON.stringify({ ...record(), supervisor: { pid: 'x' } })), {
    ok: false,
    problem: 'no supervisor identity',
  });
  t.like(parseRecord('null'), { ok: false });
  for (const bad of [
    { child: { pid: '1' } },
    { leftovers: [{ pid: 1, startTime: 'x' }] },
    { sweeping: 'all' },
    { predecessors: [null] },
  ]) {
    t.like(
      parseRecord(JSON.stringify({ ...record(), ...bad })),
      { ok: false, problem: 'a pid that is not a number' },
      JSON.stringify(bad),
    );
  }
});

/** FILE with the record above, its supervisor alive and holding FILE.lock; judged. */
const judge = (more: Partial<InstanceFacts> = {}) =>
  judgeInstance({
    pidfile: PIDFILE,
    bootId: BOOT,
    pidText: '100\n',
    record: record(),
    supervisor: alive(5000),
    lockHolders: [100],
    ...more,
  });
/** No record, no process, no lock: what a pidfile alone leaves to judge. */
const ALONE = { record: undefined, supervisor: undefined, lockHolders: [] };
const STALE = { kind: 'stale', reason: 'not-keepalive', pid: 100 } as const;

test('no pidfile and no state: absent', (t) => {
  t.deepEqual(judge({ ...ALONE, pidText: undefined }), { kind: 'absent' });
});

test('the recorded supervisor alive with its start time, holding FILE.lock: running', (t) => {
  t.like(judge(), { kind: 'running', pid: 100 }, 'whatever its command line');
  t.like(judge({ lockHolders: [7, 100] }), { kind: 'running', pid: 100 }, 'another lock beside');
});

test('stale: a dead pid, a zombie, a reused pid, a pid without the lock, an empty pidfile', (t) => {
  t.like(judge({ supervisor: GONE, lockHolders: [] }), { kind: 'stale', reason: 'dead', pid: 100 });
  t.like(judge({ supervisor: alive(5000, { state: 'Z' }) }), { kind: 'stale', reason: 'dead' });
  const reused = 'same pid, later start: another process, even holding the lock';
  t.like(judge({ supervisor: alive(9999) }), { kind: 'stale', reason: 'reused' }, reused);
  t.like(judge({ record: undefined, lockHolders: [] }), STALE, 'no record: the lock decides');
  t.like(judge({ ...ALONE, pidText: '\n' }), { kind: 'stale', reason: 'empty', pid: undefined });
});

test("files that are not keepalive's are never taken over: unknown", (t) => {
  t.like(judge({ ...ALONE, pidText: 'my notes\n' }), {
    kind: 'unknown',
    problem: 'it holds no pid: not a pidfile?',
  });
  t.like(judge({ record: undefined, recordProblem: 'not JSON' }), {
    kind: 'unknown',
    problem: "the state file beside it is not keepalive's (not JSON)",
  });
});

test('a record from an earlier boot is stale, whatever now runs under its pid and start time', (t) => {
  t.like(judge({ bootId: 'another-boot' }), { kind: 'stale', reason: 'rebooted', pid: 100 });
  const leftovers = leftoverProcesses({
    bootId: 'another-boot',
    record: record(),
    trees: [{ supervisor: record().supervisor, now: GONE }],
    recorded: [{ identity: { pid: 200, startTime: 5100 }, facts: alive(5100) }],
    candidates: [candidate(201, 5200, 100)],
    selfPid: 1,
  });
  t.deepEqual(
    leftovers,
    { proven: [], unproven: [] },
    'nothing from an earlier boot runs: its numbers may name anything now',
  );
});

test('with a record, its pid and start time are not enough: it must hold FILE.lock', (t) => {
  t.like(judge({ lockHolders: [] }), STALE, 'a live process named as the supervisor, no lock held');
  t.like(judge({ lockHolders: [4321] }), STALE, 'another holds it (a keepalive taking FILE over)');
  t.like(judge({ lockHolders: undefined }), {
    kind: 'unknown',
    pid: 100,
    problem: `cannot read /proc/locks to prove that pid 100 holds ${PIDFILE}.lock`,
  });
  t.like(judge({ record: record({ pidfile: '/run/other.pid' }) }), {
    kind: 'unknown',
    problem: 'the state file beside it is for another pidfile (/run/other.pid)',
  });
});

test('a pidfile alone, naming the holder of FILE.lock: running; naming anyone else: stale', (t) => {
  t.like(judge({ record: undefined }), { kind: 'running', pid: 100, record: undefined });
  t.like(judge({ record: undefined, lockHolders: [4321] }), STALE);
});

test('the record is the supervisor’s own word: it wins over the pidfile', (t) => {
  t.like(judge({ pidText: '999\n', lockHolders: [999, 100] }), { kind: 'running', pid: 100 });
});

test('running only for the live holder of FILE.lock with the recorded start time and boot', (t) => {
  const startTime = fc.constantFrom(5000, 6000);
  const written = fc.record({
    startTime,
    bootId: fc.constantFrom(BOOT, 'other'),
    pidfile: fc.constantFrom(PIDFILE, '/run/other.pid'),
  });
  const state = fc.constantFrom('S', 'R', 'Z');
  const live = fc.tuple(startTime, state).map(([at, is]) => alive(at, { state: is }));
  const now = fc.oneof(fc.constant(GONE), live);
  const drawn = fc.record({
    pidText: fc.option(fc.constantFrom('100\n', '999\n', '\n', 'x'), { nil: undefined }),
    record: fc.option(
      written.map((at) => record({ ...at, supervisor: { pid: 100, startTime: at.startTime } })),
      { nil: undefined },
    ),
    supervisor: fc.option(now, { nil: undefined }),
    lockHolders: fc.option(fc.subarray([100, 999, 4321]), { nil: undefined }),
  });
  fc.assert(
    fc.property(drawn, (facts) => {
      const verdict = judgeInstance({ pidfile: PIDFILE, bootId: BOOT, ...facts });
      if (verdict.kind !== 'running') return;
      const { supervisor, record: wrote } = facts;
      if (!supervisor?.exists || supervisor.stat.state === 'Z') throw new Error('no live process');
      if (!facts.lockHolders?.includes(verdict.pid)) throw new Error('no lock held');
      if (!wrote) return;
      const started = wrote.supervisor.startTime === supervisor.stat.startTime;
      const writer = started && wrote.bootId === BOOT && wrote.pidfile === PIDFILE;
      if (!writer) throw new Error('not its writer');
    }),
  );
  t.pass();
});

test('every field a record holds is bounded, so that it always reads back', (t) => {
  const long = 'x'.repeat(100_000);
  const bounded = boundRecord(
    record({
      name: long,
      lastStatusText: long,
      lastExit: {
        pid: 1,
        outcome: { kind: 'exited', code: 1 } as never,
        status: 1,
        words: long,
        at: '',
      },
      sweeping: Array.from({ length: 10_000 }, (_, pid) => ({ pid, startTime: 1 })),
    }),
  );
  t.is(bounded.name.length, 256);
  t.true(bounded.name.endsWith('…'));
  t.is(bounded.lastStatusText.length, 4096);
  t.is(bounded.lastExit?.words.length, 1024);
  t.is(bounded.sweeping?.length, 256);
  t.true(JSON.stringify(bounded).length < 64 * 1024);
  t.deepEqual(boundRecord(record()), record(), 'a record within bounds is kept as it is');
});

// What the last release wrote for `keepalive --pidfile /run/app.pid -- node app.js`, byte for byte.
const LAST_RELEASE_RECORD = `{
  "version": 1,
  "pidfile": "/run/app.pid",
  "name": "app",
  "supervisor": {
    "pid": 100,
    "startTime": 5000
  },
  "bootId": "${BOOT}",
  "startedAt": "2030-01-01T00:00:00.000Z",
  "phase": "ready",
  "child": {
    "pid": 200,
    "startTime": 5100,
    "startedAt": "2030-01-01T00:00:01.000Z"
  },
  "leftovers": [],
  "restarts": 2,
  "lastExit": {
    "pid": 150,
    "outcome": {
      "kind": "exited",
      "code": 1
    },
    "status": 1,
    "words": "app[150] exited with code 1",
    "at": "2030-01-01T00:00:00.500Z"
  },
  "lastStatusText": "",
  "stopSignal": "SIGINT",
  "killTimeoutMs": 3000
}
`;

test("the last release's record is still read: one process, from its top-level fields", (t) => {
  const parsed = parseRecord(LAST_RELEASE_RECORD);
  if (!parsed.ok) return t.fail(parsed.problem);
  t.is(parsed.value.processes, undefined);
  t.deepEqual(recordProcesses(parsed.value), [
    {
      name: 'app',
      state: 'running',
      ready: true,
      child: { pid: 200, startTime: 5100, startedAt: '2030-01-01T00:00:01.000Z' },
      restarts: 2,
      lastExit: parsed.value.lastExit,
      stopSignal: 'SIGINT',
      killTimeoutMs: 3000,
    },
  ]);
  // Each phase in the set's words.
  const states = (['starting', 'running', 'reloading', 'restarting', 'stopping'] as const).map(
    (phase) => recordProcesses({ ...parsed.value, phase })[0]?.state,
  );
  t.deepEqual(states, ['waiting', 'running', 'running', 'backing-off', 'stopping']);
  return undefined;
});

const processRecord = (name: string, more: Partial<ProcessRecord> = {}): ProcessRecord => ({
  name,
  state: 'running',
  ready: false,
  child: { pid: 300, startTime: 5200, startedAt: '2030-01-01T00:00:02.000Z' },
  restarts: 0,
  lastExit: null,
  stopSignal: 'SIGTERM',
  killTimeoutMs: 8000,
  ...more,
});

test("a set's record lists its processes; one that is not a process record is refused", (t) => {
  const set = record({ child: null, processes: [processRecord('db'), processRecord('web')] });
  const parsed = parseRecord(JSON.stringify(set));
  t.true(parsed.ok);
  t.deepEqual(parsed.ok ? recordProcesses(parsed.value).map((entry) => entry.name) : [], [
    'db',
    'web',
  ]);
  const bad: unknown[] = [
    'db',
    { ...processRecord('db'), name: 7 },
    { ...processRecord('db'), child: { pid: '300', startTime: 1 } },
    { ...processRecord('db'), sweeping: [{ pid: 'x', startTime: 1 }] },
    { ...processRecord('db'), restarts: 'many' },
  ];
  for (const entry of bad) {
    const text = JSON.stringify({ ...set, processes: [entry] });
    t.deepEqual(parseRecord(text), { ok: false, problem: 'a process that is not a record' });
  }
  t.false(parseRecord(JSON.stringify({ ...set, processes: {} })).ok);
});

test('a record, with or without processes, reads back as written once bounded (round trip)', (t) => {
  const text = fc.string({ maxLength: 300 });
  const identity = fc.record({
    pid: fc.integer({ min: 1, max: 4_194_304 }),
    startTime: fc.integer({ min: 0, max: 2 ** 40 }),
  });
  const child = fc.option(
    fc.record({
      pid: fc.integer({ min: 1, max: 4_194_304 }),
      startTime: fc.integer({ min: 0, max: 2 ** 40 }),
      startedAt: fc.constant('2030-01-01T00:00:02.000Z'),
    }),
    { nil: null },
  );
  const lastExit = fc.option(
    fc.record({
      pid: fc.option(fc.integer({ min: 1, max: 99999 }), { nil: null }),
      outcome: fc.constant({ kind: 'exited' as const, code: 1 }),
      status: fc.integer({ min: 0, max: 255 }),
      words: fc.string({ maxLength: 2000 }),
      at: fc.constant('2030-01-01T00:00:03.000Z'),
    }),
    { nil: null },
  );
  const entry = fc.record(
    {
      name: text,
      state: fc.constantFrom(
        'waiting',
        'starting',
        'running',
        'backing-off',
        'stopping',
        'ended',
        'failed',
      ),
      ready: fc.boolean(),
      child,
      restarts: fc.nat(),
      lastExit,
      sweeping: fc.array(identity, { maxLength: 5 }),
      stopSignal: fc.constantFrom('SIGTERM', 'SIGINT', 'SIGQUIT'),
      killTimeoutMs: fc.nat(),
    },
    {
      requiredKeys: [
        'name',
        'state',
        'ready',
        'child',
        'restarts',
        'lastExit',
        'stopSignal',
        'killTimeoutMs',
      ],
    },
  );
  const drawn = fc.record(
    { name: text, processes: fc.array(entry, { maxLength: 20 }), restarts: fc.nat() },
    { requiredKeys: ['name', 'restarts'] },
  );
  fc.assert(
    fc.property(drawn, (more) => {
      const written = boundRecord(record(more as Partial<InstanceRecord>));
      const parsed = parseRecord(JSON.stringify(written, null, 2));
      if (!parsed.ok) return false;
      t.deepEqual(parsed.value, written);
      t.deepEqual(boundRecord(parsed.value), written, 'bounding is done once and for all');
      return recordProcesses(parsed.value).length === (written.processes?.length ?? 1);
    }),
  );
});
