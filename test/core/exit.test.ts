import test from 'ava';
import {
  classify,
  describeOutcome,
  exitStatus,
  factsFromWaitStatus,
  type Outcome,
} from '../../src/core/exit.js';

const exited = (code: number): Outcome => classify({ started: true, code, signal: null });
const signalled = (signal: 'SIGKILL' | 'SIGTERM' | 'SIGSEGV' | 'SIGABRT' | 'SIGUSR1'): Outcome =>
  classify({ started: true, code: null, signal }, { coreDumps: 'possible' });

test('an exit code is the outcome "exited" and passes through as the status', (t) => {
  t.deepEqual(exited(0), { kind: 'exited', code: 0 });
  for (const code of [0, 1, 2, 42, 126, 127, 255]) t.is(exitStatus(exited(code)), code);
  t.is(describeOutcome(exited(3)), 'exited with code 3');
});

test('a terminating signal is "killed", status 128 + its number', (t) => {
  t.deepEqual(signalled('SIGKILL'), { kind: 'killed', signal: 'SIGKILL' });
  t.is(exitStatus(signalled('SIGKILL')), 137);
  t.is(exitStatus(signalled('SIGTERM')), 143);
  t.is(exitStatus(signalled('SIGUSR1')), 138);
  t.is(describeOutcome(signalled('SIGTERM')), 'killed: SIGTERM (Termination), status 143');
});

test('a core-dumping signal is "crashed" and says whether a core file may exist', (t) => {
  t.deepEqual(signalled('SIGSEGV'), { kind: 'crashed', signal: 'SIGSEGV', coreDumps: 'possible' });
  t.is(exitStatus(signalled('SIGABRT')), 134);
  t.is(
    describeOutcome(signalled('SIGSEGV')),
    'crashed: SIGSEGV (Segmentation fault), status 139, a core file may have been written',
  );
  const noCore = classify(
    { started: true, code: null, signal: 'SIGSEGV' },
    { coreDumps: 'disabled' },
  );
  t.is(
    describeOutcome(noCore),
    'crashed: SIGSEGV (Segmentation fault), status 139, no core file (core size limit is 0)',
  );
});

test('a command that cannot start is "not started": 127 when missing, 126 when not executable', (t) => {
  const missing = classify({ started: false, errno: 'ENOENT', command: 'nope' });
  const denied = classify({ started: false, errno: 'EACCES', command: '/etc/passwd' });
  t.is(exitStatus(missing), 127);
  t.is(exitStatus(denied), 126);
  t.is(describeOutcome(missing), 'not started: command not found: nope, status 127');
  t.is(describeOutcome(denied), 'not started: /etc/passwd is not executable (EACCES), status 126');
});

test("keepalive's own kills are named for their cause, with 128 + the signal it sent", (t) => {
  const facts = { started: true as const, code: null, signal: 'SIGKILL' as const };
  const hung = classify(facts, {
    cause: { kind: 'hung', signal: 'SIGKILL', reason: 'no-heartbeat', silentMs: 5000 },
  });
  t.deepEqual(hung, {
    kind: 'hung',
    signal: 'SIGKILL',
    sent: 'SIGKILL',
    reason: 'no-heartbeat',
    silentMs: 5000,
    coreDumps: 'unknown',
  });
  t.is(exitStatus(hung), 137);
  t.is(
    describeOutcome(hung),
    'hung: no heartbeat for 5s, killed with SIGKILL (Forced termination), status 137',
  );
  const unhealthy = classify(
    { ...facts, signal: 'SIGTERM' },
    { cause: { kind: 'unhealthy', signal: 'SIGTERM', failures: 3 } },
  );
  t.is(exitStatus(unhealthy), 143);
  t.is(
    describeOutcome(unhealthy),
    'unhealthy: health check failed 3 times in a row, killed with SIGTERM (Termination), status 143',
  );
  const oom = classify(facts, { oomKilled: true });
  t.deepEqual(oom, { kind: 'oom-killed' });
  t.is(exitStatus(oom), 137);
  // The OOM cause only explains a SIGKILL: an ordinary exit stays an exit.
  t.deepEqual(classify({ started: true, code: 1, signal: null }, { oomKilled: true }), {
    kind: 'exited',
    code: 1,
  });
});

test('a hang signal that dumps core reads as a crash by the watchdog: SIGABRT is status 134', (t) => {
  const aborted = classify(
    { started: true, code: null, signal: 'SIGABRT' },
    {
      cause: { kind: 'hung', signal: 'SIGABRT', reason: 'no-heartbeat', silentMs: 5000 },
      coreDumps: 'possible',
    },
  );
  t.like(aborted, { kind: 'hung', signal: 'SIGABRT', sent: 'SIGABRT' });
  t.is(exitStatus(aborted), 134);
  t.is(
    describeOutcome(aborted),
    'hung: no heartbeat for 5s, killed with SIGABRT (Aborted), status 134, a core file may have been written',
  );
});

test('when the hang signal was not enough, the status is the SIGKILL that followed', (t) => {
  const escalated = classify(
    { started: true, code: null, signal: 'SIGKILL' },
    {
      cause: { kind: 'hung', signal: 'SIGABRT', reason: 'no-heartbeat', silentMs: 1500 },
      coreDumps: 'possible',
    },
  );
  t.is(exitStatus(escalated), 137);
  t.is(
    describeOutcome(escalated),
    'hung: no heartbeat for 1.5s, SIGABRT did not end it, killed with SIGKILL (Forced termination), status 137',
  );
  const unhealthy = classify(
    { started: true, code: null, signal: 'SIGKILL' },
    { cause: { kind: 'unhealthy', signal: 'SIGTERM', failures: 1 } },
  );
  t.is(
    describeOutcome(unhealthy),
    'unhealthy: health check failed, SIGTERM did not end it, killed with SIGKILL (Forced termination), status 137',
  );
});

test('a child that catches the signal and exits with a code still ends with 128 + the signal sent', (t) => {
  const caught = classify(
    { started: true, code: 0, signal: null },
    { cause: { kind: 'unhealthy', signal: 'SIGTERM', failures: 3 } },
  );
  t.is(exitStatus(caught), 143);
  // The words say how it really ended: it caught SIGTERM and exited 0.
  t.is(
    describeOutcome(caught),
    'unhealthy: health check failed 3 times in a row, stopped with SIGTERM, exited with code 0, status 143',
  );
  const hung = classify(
    { started: true, code: 3, signal: null },
    {
      cause: { kind: 'hung', signal: 'SIGABRT', reason: 'no-heartbeat', silentMs: 2000 },
      coreDumps: 'possible',
    },
  );
  t.is(
    describeOutcome(hung),
    'hung: no heartbeat for 2s, stopped with SIGABRT, exited with code 3, status 134',
  );
});

test("the kernel's wait status: real-time signals by name, and whether a core was dumped", (t) => {
  // 39 is SIGRTMIN+5 (SIGRTMIN is 34 under glibc); its status is 128 + 39.
  const realtime = classify(factsFromWaitStatus(39));
  t.deepEqual(realtime, { kind: 'killed', signal: 'SIGRT6' });
  t.is(exitStatus(realtime), 167);
  t.regex(describeOutcome(realtime), /^killed: SIGRTMIN\+5 \(.*\), status 167$/);
  // SIGSEGV (11) with the core flag (0x80): "core dumped", whatever the limits suggested.
  const dumped = classify(factsFromWaitStatus(0x80 | 11), { coreDumps: 'possible' });
  t.is(describeOutcome(dumped), 'crashed: SIGSEGV (Segmentation fault), status 139, core dumped');
  const notDumped = classify(factsFromWaitStatus(11), { coreDumps: 'possible' });
  t.is(
    describeOutcome(notDumped),
    'crashed: SIGSEGV (Segmentation fault), status 139, no core file',
  );
  const limited = classify(factsFromWaitStatus(11), { coreDumps: 'disabled' });
  t.is(
    describeOutcome(limited),
    'crashed: SIGSEGV (Segmentation fault), status 139, no core file (core size limit is 0)',
  );
  t.deepEqual(factsFromWaitStatus(7 << 8), { started: true, code: 7, signal: null });
});

test('a script whose #! interpreter is missing says so, status 127', (t) => {
  const outcome = classify({
    started: false,
    errno: 'ENOENT',
    command: './job.sh',
    missingInterpreter: '/usr/bin/python9',
  });
  t.is(exitStatus(outcome), 127);
  t.is(
    describeOutcome(outcome),
    'not started: ./job.sh names the interpreter /usr/bin/python9 in its #! line, and that is not found, status 127',
  );
});

test('the other reasons for a hang are told in words', (t) => {
  const facts = { started: true as const, code: null, signal: 'SIGKILL' as const };
  const triggered = classify(facts, {
    cause: { kind: 'hung', signal: 'SIGKILL', reason: 'trigger', silentMs: 10 },
  });
  t.is(
    describeOutcome(triggered),
    'hung: it sent WATCHDOG=trigger, killed with SIGKILL (Forced termination), status 137',
  );
  const lingering = classify(facts, {
    cause: { kind: 'hung', signal: 'SIGKILL', reason: 'stop-timeout', silentMs: 8000 },
  });
  t.is(
    describeOutcome(lingering),
    'hung: still running 8s after STOPPING=1, killed with SIGKILL (Forced termination), status 137',
  );
});

test('over-memory: the words say the size, the limit and how the child really ended', (t) => {
  const cause = {
    kind: 'over-memory',
    signal: 'SIGTERM',
    usedBytes: 212e6,
    limitBytes: 200e6,
  } as const;
  const stopped = classify({ started: true, code: null, signal: 'SIGTERM' }, { cause });
  t.deepEqual(stopped, {
    kind: 'over-memory',
    signal: 'SIGTERM',
    sent: 'SIGTERM',
    usedBytes: 212e6,
    limitBytes: 200e6,
  });
  t.is(exitStatus(stopped), 143);
  t.is(
    describeOutcome(stopped),
    'over its memory limit: 212MB, limit 200MB (whole tree), killed with SIGTERM (Termination), status 143',
  );
  const escalated = classify({ started: true, code: null, signal: 'SIGKILL' }, { cause });
  t.is(
    describeOutcome(escalated),
    'over its memory limit: 212MB, limit 200MB (whole tree), SIGTERM did not end it, killed with SIGKILL (Forced termination), status 137',
  );
  const caught = classify({ started: true, code: 0, signal: null }, { cause });
  t.is(
    describeOutcome(caught),
    'over its memory limit: 212MB, limit 200MB (whole tree), stopped with SIGTERM, exited with code 0, status 143',
  );
});

test('a child the kernel OOM killer takes first is oom-killed, even while keepalive stops it for its size', (t) => {
  const cause = {
    kind: 'over-memory',
    signal: 'SIGTERM',
    usedBytes: 212e6,
    limitBytes: 200e6,
  } as const;
  t.deepEqual(
    classify({ started: true, code: null, signal: 'SIGKILL' }, { cause, oomKilled: true }),
    { kind: 'oom-killed' },
  );
});
