// What killed supervisors left running, from facts alone: only processes that carry KEEPALIVE_PID
// of one of them, started in its life, are stopped; other recorded ones are reported.
import test from 'ava';
import type {
  InstanceRecord,
  ProcessFacts,
  ProcessRecord,
  ProcStat,
} from '../../src/core/instance-state.js';
import {
  leftoverProcesses,
  ownerOf,
  recordedIdentities,
  treeSupervisors,
  type Candidate,
  type LeftoverFacts,
} from '../../src/core/leftover-trees.js';

const BOOT = 'boot';
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
  pidfile: '/run/app.pid',
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
const facts = (more: Partial<LeftoverFacts>): LeftoverFacts => {
  const base = more.record ?? record();
  return {
    record: base,
    trees: treeSupervisors(base).map((supervisor) => ({ supervisor, now: GONE })),
    recorded: [],
    candidates: [],
    selfPid: 1,
    bootId: BOOT,
    ...more,
  };
};
const proven = (more: Partial<LeftoverFacts>): number[] =>
  leftoverProcesses(facts(more)).proven.map((leftover) => leftover.pid);

test('every process carrying the old KEEPALIVE_PID, started in its life, leaders or not', (t) => {
  t.deepEqual(
    proven({ candidates: [candidate(201, 5200, 100)] }),
    [201],
    'its child, unrecorded: the supervisor died right after the spawn',
  );
  t.deepEqual(
    proven({ candidates: [candidate(204, 5200, 100, { pgid: 201 })] }),
    [204],
    'a worker whose leader is gone: the mid-sweep case',
  );
  t.deepEqual(
    proven({ candidates: [candidate(202, 4000, 100)] }),
    [],
    'started before the old supervisor',
  );
  t.deepEqual(
    proven({ candidates: [candidate(203, 5200, 555)] }),
    [],
    "another supervisor's child",
  );
  t.deepEqual(
    proven({ candidates: [candidate(205, 5200, 100, { state: 'Z' })] }),
    [],
    'a zombie has ended',
  );
  const reused = (now: ProcessFacts) =>
    facts({ trees: [{ supervisor: record().supervisor, now }] });
  t.deepEqual(
    leftoverProcesses({ ...reused(alive(7000)), candidates: [candidate(206, 8000, 100)] }).proven,
    [],
    'a child of a later process that got pid 100',
  );
  t.deepEqual(
    leftoverProcesses({
      ...reused(alive(7000)),
      candidates: [candidate(207, 6000, 100)],
    }).proven.map((leftover) => leftover.pid),
    [207],
  );
  t.deepEqual(proven({ candidates: [candidate(1, 5200, 100)] }), [], 'never ourselves');
});

test('a recorded child is believed only with the proof; without it, it is reported and left alone', (t) => {
  const child = { pid: 200, startTime: 5100 };
  const withProof = leftoverProcesses(
    facts({
      recorded: [{ identity: child, facts: alive(5100) }],
      candidates: [candidate(200, 5100, 100)],
    }),
  );
  t.deepEqual(withProof, {
    proven: [{ pid: 200, startTime: 5100, pgid: 200, keepalivePid: 100 }],
    unproven: [],
  });
  const planted = leftoverProcesses(
    facts({ recorded: [{ identity: child, facts: alive(5100) }], candidates: [] }),
  );
  t.deepEqual(
    planted,
    { proven: [], unproven: [child] },
    'a root process named in a record: not signalled',
  );
  t.deepEqual(
    leftoverProcesses(facts({ recorded: [{ identity: child, facts: alive(7777) }] })),
    { proven: [], unproven: [] },
    'pid reused: not even worth a word',
  );
  t.deepEqual(
    leftoverProcesses(
      facts({ recorded: [{ identity: child, facts: alive(5100, { state: 'Z' }) }] }),
    ),
    { proven: [], unproven: [] },
    'a zombie is gone',
  );
});

test('the trees of earlier killed takeovers are looked for too, and the recorded child comes first', (t) => {
  const chained = record({
    supervisor: { pid: 300, startTime: 9000 },
    child: null,
    leftovers: [{ pid: 250, startTime: 5200 }],
    predecessors: [{ pid: 100, startTime: 5000 }],
  });
  t.deepEqual(treeSupervisors(chained), [
    { pid: 300, startTime: 9000 },
    { pid: 100, startTime: 5000 },
  ]);
  t.deepEqual(
    proven({
      record: chained,
      candidates: [candidate(260, 5300, 100, { pgid: 250 }), candidate(250, 5200, 100)],
    }),
    [250, 260],
  );
  const sweeping = record({ child: null, sweeping: [{ pid: 410, startTime: 5500 }] });
  t.deepEqual(recordedIdentities(sweeping), [{ pid: 410, startTime: 5500 }]);
  t.deepEqual(
    proven({
      record: sweeping,
      candidates: [candidate(420, 5600, 100), candidate(410, 5500, 100, { pgid: 400 })],
    }),
    [410, 420],
  );
});

const setEntry = (name: string, pid: number | null, more: Partial<ProcessRecord> = {}) => ({
  name,
  state: 'running' as const,
  ready: true,
  child: pid === null ? null : { pid, startTime: 5100, startedAt: '2030-01-01T00:00:01.000Z' },
  restarts: 0,
  lastExit: null,
  stopSignal: 'SIGTERM' as const,
  killTimeoutMs: 8000,
  ...more,
});

const setRecord = record({
  child: null,
  processes: [
    setEntry('db', 300),
    setEntry('web', 400, { sweeping: [{ pid: 450, startTime: 5150 }] }),
    setEntry('worker', 500, { stopSignal: 'SIGINT' }),
  ],
});

test("a set's record names every process's child and sweep; each leftover is known by its process", (t) => {
  t.deepEqual(
    recordedIdentities(setRecord).map((identity) => identity.pid),
    [300, 400, 500, 450],
  );
  const all = leftoverProcesses(
    facts({
      record: setRecord,
      candidates: [
        candidate(500, 5100, 100),
        candidate(501, 5200, 100, { pgid: 500 }),
        candidate(450, 5150, 100, { pgid: 401 }),
        candidate(300, 5100, 100),
        candidate(400, 5100, 100),
      ],
    }),
  ).proven;
  t.deepEqual(
    all.map((leftover) => leftover.pid),
    [300, 400, 500, 450, 501],
    'every process of the set, the recorded children first',
  );
  t.deepEqual(
    all.map((leftover) => ownerOf(setRecord, leftover)?.name),
    ['db', 'web', 'worker', 'web', 'worker'],
  );
  t.is(ownerOf(setRecord, { pid: 999, pgid: 999 }), undefined);
});

test("a planted set record naming another program's pids gets none of them stopped", (t) => {
  // Every pid alive with the recorded start time, but none carries KEEPALIVE_PID 100 nor is in its
  // cgroups: /proc does not prove them keepalive's, whatever the file says.
  const planted = record({
    child: null,
    processes: [setEntry('sshd', 300), setEntry('init', 1), setEntry('db', 400)],
  });
  const found = leftoverProcesses(
    facts({
      record: planted,
      recorded: recordedIdentities(planted).map((identity) => ({
        identity,
        facts: alive(identity.startTime ?? 0),
      })),
      candidates: [candidate(300, 5100, undefined), candidate(400, 5100, 555)],
      selfPid: 4321,
    }),
  );
  t.deepEqual(found.proven, []);
  t.deepEqual(
    found.unproven.map((identity) => identity.pid),
    [300, 1, 400],
    'reported, and left alone',
  );
});
