// What `keepalive status` says and with which LSB status, from a verdict and a fixed time.
import test from 'ava';
import type { InstanceRecord, ProcessRecord } from '../../src/core/instance-state.js';
import { statusReport, statusText } from '../../src/core/status-report.js';

const PIDFILE = '/run/app.pid';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const record: InstanceRecord = {
  version: 1,
  pidfile: PIDFILE,
  name: 'app',
  supervisor: { pid: 100, startTime: 5000 },
  bootId: '3f1e0c1a-0000-4000-8000-000000000001',
  startedAt: '2030-01-01T00:00:00.000Z',
  phase: 'running',
  child: { pid: 201, startTime: 5100, startedAt: '2030-01-01T00:01:00.000Z' },
  leftovers: [],
  restarts: 1,
  lastExit: {
    pid: 200,
    outcome: { kind: 'killed', signal: 'SIGTERM' },
    status: 143,
    words: 'app[200] killed: SIGTERM (Termination), status 143',
    at: '2030-01-01T00:00:59.000Z',
  },
  lastStatusText: 'serving 3 clients',
  stopSignal: 'SIGTERM',
  killTimeoutMs: 8000,
};

test('running: status 0, pids, uptimes, restarts, last exit and STATUS= text', (t) => {
  const { report, exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record },
    now: T0 + 90_000,
  });
  t.is(exitStatus, 0);
  t.deepEqual(report, {
    state: 'running',
    reason: '',
    pidfile: PIDFILE,
    name: 'app',
    supervisorPid: 100,
    childPid: 201,
    uptimeMs: 90_000,
    childUptimeMs: 30_000,
    restarts: 1,
    lastExit: 'app[200] killed: SIGTERM (Termination), status 143',
    lastOutcome: { kind: 'killed', signal: 'SIGTERM' },
    lastStatusText: 'serving 3 clients',
    memory: null,
    // A single command's one process, as a set's are listed.
    processes: [
      {
        name: 'app',
        state: 'running',
        pid: 201,
        uptimeMs: 30_000,
        restarts: 1,
        lastExit: 'app[200] killed: SIGTERM (Termination), status 143',
        lastStatus: 143,
        lastOutcome: { kind: 'killed', signal: 'SIGTERM' },
        ready: false,
      },
    ],
    set: false,
  });
  t.is(
    statusText(report),
    [
      'running: keepalive[100], up 1m30s',
      'child: app[201], up 30s',
      'restarts: 1',
      'last exit: app[200] killed: SIGTERM (Termination), status 143',
      'status text: serving 3 clients',
      '',
    ].join('\n'),
  );
});

test('between two runs of the child: status 1, and the text says the child is not running now', (t) => {
  const between = { ...record, phase: 'restarting' as const, child: null };
  const { report, exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: between },
    now: T0,
  });
  t.is(exitStatus, 1);
  t.like(report, { state: 'restarting', childPid: null, childUptimeMs: null });
  t.regex(statusText(report), /^child: app is not running now$/m);
});

test('status 0 only while the child runs: starting and stopping are 1 too', (t) => {
  for (const phase of ['starting', 'stopping', 'restarting'] as const) {
    const { exitStatus } = statusReport({
      pidfile: PIDFILE,
      verdict: { kind: 'running', pid: 100, record: { ...record, phase } },
      now: T0,
    });
    t.is(exitStatus, 1, phase);
  }
  const { exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: { ...record, phase: 'running', child: null } },
    now: T0,
  });
  t.is(exitStatus, 1);
});

test('what the child says of itself: ready and reloading still run (status 0), its own STOPPING=1 does not', (t) => {
  for (const phase of ['ready', 'reloading'] as const) {
    const { report, exitStatus } = statusReport({
      pidfile: PIDFILE,
      verdict: { kind: 'running', pid: 100, record: { ...record, phase } },
      now: T0,
    });
    t.is(exitStatus, 0, phase);
    t.is(report.state, phase);
    t.regex(statusText(report), new RegExp(`^${phase}: keepalive\\[100\\]`));
  }
  const { exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: { ...record, phase: 'stopping' } },
    now: T0,
  });
  t.is(exitStatus, 1);
});

test('no pidfile: status 3, not running', (t) => {
  const { report, exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'absent' },
    now: T0,
  });
  t.is(exitStatus, 3);
  t.like(report, { state: 'not-running', supervisorPid: null, childPid: null });
  t.is(statusText(report), `not running: no ${PIDFILE}\n`);
});

test('stale: status 3, and a child left running is named', (t) => {
  const verdict = { kind: 'stale' as const, pid: 100, reason: 'dead' as const, record };
  const { report, exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict,
    orphanPid: 201,
    now: T0,
  });
  t.is(exitStatus, 3);
  t.like(report, { state: 'stale', supervisorPid: 100, childPid: 201, uptimeMs: null });
  t.regex(
    statusText(report),
    new RegExp(
      `^not running: stale ${PIDFILE}: keepalive\\[100\\] is gone\\nleft running: app\\[201\\]`,
    ),
  );
});

test('unknown: status 4, with the reason', (t) => {
  const { report, exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'unknown', pid: 0, problem: 'cannot read it: permission denied (EACCES)' },
    now: T0,
  });
  t.is(exitStatus, 4);
  t.is(report.state, 'unknown');
  t.is(statusText(report), 'unknown: cannot read it: permission denied (EACCES)\n');
});

test('texts from the record are shown without control characters, in the lines and in --json', (t) => {
  const planted: InstanceRecord = {
    ...record,
    name: 'app\u001b]0;title\u0007',
    lastExit: {
      ...(record.lastExit as NonNullable<InstanceRecord['lastExit']>),
      words: 'app[200] \u001b[2Jexited',
    },
    lastStatusText: 'ok\u001b[8m\r\u009b',
  };
  const { report } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: planted },
    now: T0 + 90_000,
  });
  t.like(report, { name: 'app]0;title', lastExit: 'app[200] [2Jexited', lastStatusText: 'ok[8m' });
  t.false(/[\u0000-\u001f\u007f-\u009f]/.test(statusText(report).replace(/\n/g, '')));
});

test("with --max-memory: the tree's memory at the last check, while the child runs, and only numbers", (t) => {
  const memory = { bytes: 121e6, limitBytes: 150e6, at: '2030-01-01T00:01:29.000Z' };
  const { report } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: { ...record, memory } },
    now: T0 + 90_000,
  });
  t.deepEqual(report.memory, memory);
  t.regex(statusText(report), /^memory: 121MB \(whole tree\), limit 150MB$/m);
  const between = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: { ...record, child: null, memory } },
    now: T0,
  });
  t.is(between.report.memory, null);
  const lastRun = { ...memory, at: '2030-01-01T00:00:59.000Z' };
  t.is(
    statusReport({
      pidfile: PIDFILE,
      verdict: { kind: 'running', pid: 100, record: { ...record, memory: lastRun } },
      now: T0,
    }).report.memory,
    null,
    'a check of the last run is not shown',
  );
  const forged = {
    ...record,
    memory: { bytes: 'lots', limitBytes: 1, at: 'x' },
  } as unknown as InstanceRecord;
  t.is(
    statusReport({
      pidfile: PIDFILE,
      verdict: { kind: 'running', pid: 100, record: forged },
      now: T0,
    }).report.memory,
    null,
  );
});

const entry = (name: string, more: Partial<ProcessRecord> = {}): ProcessRecord => ({
  name,
  state: 'running',
  ready: true,
  child: { pid: 300, startTime: 5200, startedAt: '2030-01-01T00:00:30.000Z' },
  restarts: 0,
  lastExit: null,
  stopSignal: 'SIGTERM',
  killTimeoutMs: 8000,
  ...more,
});

const setRecord: InstanceRecord = {
  ...record,
  name: 'keepalive.yaml',
  child: null,
  restarts: 0,
  lastExit: null,
  lastStatusText: '',
  processes: [
    entry('db', { child: { pid: 301, startTime: 5200, startedAt: '2030-01-01T00:00:30.000Z' } }),
    entry('web', {
      child: { pid: 4302, startTime: 5300, startedAt: '2030-01-01T00:01:00.000Z' },
      restarts: 2,
      lastExit: {
        pid: 302,
        outcome: { kind: 'exited', code: 1 },
        status: 1,
        words: 'web[302] exited with code 1',
        at: '2030-01-01T00:00:59.000Z',
      },
    }),
    entry('migrate', {
      state: 'ended',
      ready: false,
      child: null,
      lastExit: {
        pid: 303,
        outcome: { kind: 'exited', code: 0 },
        status: 0,
        words: 'migrate[303] exited with code 0',
        at: '2030-01-01T00:00:20.000Z',
      },
    }),
  ],
};

test('a set: a table of its processes, status 0 while each runs or has completed', (t) => {
  const { report, exitStatus } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: setRecord },
    now: T0 + 90_000,
  });
  t.is(exitStatus, 0);
  t.true(report.set);
  t.is(report.processes.length, 3);
  t.like(report.processes[1], { name: 'web', pid: 4302, restarts: 2, lastStatus: 1, ready: true });
  t.is(
    statusText(report),
    [
      'running: keepalive[100], up 1m30s',
      'NAME     STATE    PID   UPTIME  RESTARTS  READY  LAST EXIT',
      'db       running  301   1m      0         yes    -',
      'web      running  4302  30s     2         yes    web[302] exited with code 1',
      'migrate  ended    -     -       0         no     migrate[303] exited with code 0',
      '',
    ].join('\n'),
  );
});

test('a set with one process failed while keepalive runs: status 1, like a child between runs', (t) => {
  const failures: Array<Partial<ProcessRecord>> = [
    { state: 'failed', child: null },
    { state: 'backing-off', child: null },
    { state: 'waiting', child: null },
    {
      state: 'ended',
      child: null,
      lastExit: {
        ...(setRecord.processes?.[1]?.lastExit as NonNullable<ProcessRecord['lastExit']>),
      },
    },
  ];
  for (const failure of failures) {
    const processes = [entry('db'), entry('web', failure)];
    const { exitStatus, report } = statusReport({
      pidfile: PIDFILE,
      verdict: { kind: 'running', pid: 100, record: { ...setRecord, processes } },
      now: T0,
    });
    t.is(exitStatus, 1, failure.state);
    t.regex(statusText(report), new RegExp(`^web +${failure.state} `, 'm'));
  }
  // Stopping, the set as a whole does not run.
  const stopping = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: { ...setRecord, phase: 'stopping' } },
    now: T0,
  });
  t.is(stopping.exitStatus, 1);
});

test('a set: names and last exits from the record are shown without control characters', (t) => {
  const processes = [
    entry('we\u001b[31mb', {
      lastExit: {
        ...(setRecord.processes?.[1]?.lastExit as NonNullable<ProcessRecord['lastExit']>),
        words: 'x\u0007y',
      },
    }),
  ];
  const { report } = statusReport({
    pidfile: PIDFILE,
    verdict: { kind: 'running', pid: 100, record: { ...setRecord, processes } },
    now: T0,
  });
  t.notRegex(statusText(report), /[\u0000-\u0008\u000b-\u001f\u007f]/);
  t.notRegex(JSON.stringify(report), /\\u00(0[0-8]|1[0-9a-f])/);
});
