// Who owns a pidfile, from facts alone: no file, no process, no clock.
import test from 'ava';
import {
  boundRecord,
  isKeepaliveFor,
  judgeInstance,
  parsePid,
  parseRecord,
  parseStat,
  type InstanceRecord,
  type ProcessFacts,
  type ProcStat,
} from '../../src/core/instance-state.js';
import { leftoverProcesses, type Candidate } from '../../src/core/leftover-trees.js';

const PIDFILE = '/run/app.pid';
const BOOT = '3f1e0c1a-0000-4000-8000-000000000001';
const KEEPALIVE_ARGV = ['/usr/bin/node', '/opt/keepalive/build/src/cli.js', '--pidfile', PIDFILE, '--', 'node', 'app.js'];

const stat = (startTime: number, more: Partial<ProcStat> = {}): ProcStat => ({ state: 'S', ppid: 1, pgid: 1, sid: 1, startTime, ...more });
const alive = (startTime: number, argv?: string[], more: Partial<ProcStat> = {}): ProcessFacts => ({
  exists: true,
  stat: stat(startTime, more),
  ...(argv ? { argv } : {}),
});
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

test('a keepalive for this pidfile: its script, and --pidfile naming the same file', (t) => {
  t.true(isKeepaliveFor(KEEPALIVE_ARGV, '/', PIDFILE));
  t.true(isKeepaliveFor(['node', '/usr/local/bin/keepalive', `--pidfile=${PIDFILE}`, 'sleep', '1'], undefined, PIDFILE));
  t.true(isKeepaliveFor(['node', 'cli.js', '--pidfile', 'app.pid', '--', 'x'], '/run', PIDFILE), 'relative to its cwd');
  t.true(isKeepaliveFor(['node', 'cli.js', '--pidfile', './app.pid'], undefined, PIDFILE), 'relative, cwd unreadable');
  t.false(isKeepaliveFor(['node', 'cli.js', '--pidfile', 'app.pid'], '/tmp', PIDFILE), 'another directory');
  t.false(isKeepaliveFor(['node', 'cli.js', '--pidfile', '/run/other.pid'], '/', PIDFILE));
  t.false(isKeepaliveFor(['sleep', '1000'], '/', PIDFILE), 'another program');
  t.false(isKeepaliveFor(['node', 'server.js', '--pidfile', PIDFILE], '/', PIDFILE), 'another program with the same flag');
  t.false(isKeepaliveFor(['node', 'cli.js', '--', 'app', '--pidfile', PIDFILE], '/', PIDFILE), "the child's arguments do not count");
});

test('no pidfile and no state: absent', (t) => {
  t.deepEqual(judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: undefined, record: undefined, supervisor: undefined }), { kind: 'absent' });
});

test('the recorded supervisor alive with its start time and command line: running', (t) => {
  const verdict = judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: '100\n', record: record(), supervisor: alive(5000, KEEPALIVE_ARGV) });
  t.like(verdict, { kind: 'running', pid: 100 });
});

test('stale: a dead pid, a zombie, a reused pid, another program, an empty pidfile', (t) => {
  const judge = (supervisor: ProcessFacts | undefined, pidText = '100\n', withRecord = true) =>
    judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText, record: withRecord ? record() : undefined, supervisor });
  t.like(judge(GONE), { kind: 'stale', reason: 'dead', pid: 100 });
  t.like(judge(alive(5000, KEEPALIVE_ARGV, { state: 'Z' })), { kind: 'stale', reason: 'dead' });
  t.like(judge(alive(9999, KEEPALIVE_ARGV)), { kind: 'stale', reason: 'reused' }, 'same pid, later start: another process');
  t.like(judge(alive(9999, ['sleep', '1000']), '100\n', false), { kind: 'stale', reason: 'not-keepalive' }, 'no record: the command line decides');
  t.like(judge(undefined, '\n', false), { kind: 'stale', reason: 'empty', pid: undefined });
});

test("files that are not keepalive's are never taken over: unknown", (t) => {
  t.like(judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: 'my notes\n', record: undefined, supervisor: undefined }), {
    kind: 'unknown',
    problem: 'it holds no pid: not a pidfile?',
  });
  t.like(judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: '100\n', record: undefined, recordProblem: 'not JSON', supervisor: alive(5000, KEEPALIVE_ARGV) }), {
    kind: 'unknown',
    problem: "the state file beside it is not keepalive's (not JSON)",
  });
});

test('a record from an earlier boot is stale, whatever now runs under its pid and start time', (t) => {
  const verdict = judgeInstance({ pidfile: PIDFILE, bootId: 'another-boot', pidText: '100\n', record: record(), supervisor: alive(5000, KEEPALIVE_ARGV) });
  t.like(verdict, { kind: 'stale', reason: 'rebooted', pid: 100 });
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

test('with a record, its pid and start time are not enough: the process must be a keepalive for this FILE', (t) => {
  const judge = (supervisor: ProcessFacts) => judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: '100\n', record: record(), supervisor });
  t.like(judge(alive(5000, KEEPALIVE_ARGV)), { kind: 'running', pid: 100 });
  t.like(judge(alive(5000, ['/usr/sbin/sshd', '-D'])), { kind: 'stale', reason: 'not-keepalive', pid: 100 }, 'a live unrelated process named as the supervisor');
  t.like(judge(alive(5000, ['node', 'cli.js', '--pidfile', '/run/other.pid'])), { kind: 'stale', reason: 'not-keepalive' }, 'a keepalive for another FILE');
  t.like(judge(alive(5000)), { kind: 'unknown', pid: 100 }, 'no command line to prove it by');
  t.like(judge(alive(5000, [])), { kind: 'stale', reason: 'not-keepalive' }, 'an empty one (a kernel thread) is proof enough that it is not keepalive');
  t.like(judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: '100\n', record: record({ pidfile: '/run/other.pid' }), supervisor: alive(5000, KEEPALIVE_ARGV) }), {
    kind: 'unknown',
    problem: 'the state file beside it is for another pidfile (/run/other.pid)',
  });
});

test('a live pid with neither a state file nor a readable command line: unknown', (t) => {
  t.like(judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: '100', record: undefined, supervisor: alive(5000) }), { kind: 'unknown', pid: 100 });
});

test('the record is the supervisor’s own word: it wins over the pidfile', (t) => {
  const verdict = judgeInstance({ pidfile: PIDFILE, bootId: BOOT, pidText: '999\n', record: record(), supervisor: alive(5000, KEEPALIVE_ARGV) });
  t.like(verdict, { kind: 'running', pid: 100 });
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
