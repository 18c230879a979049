import test from 'ava';
import fc from 'fast-check';
import {
  cycleGroup,
  endedForGood,
  FAILED_START_STATUS,
  finalStatus,
  notStartedWords,
  plan,
  type Member,
  type MemberPhase,
} from '../../src/core/set-plan.js';
import { CONDITIONS } from '../../src/option-table.js';
import type { Condition } from '../../src/set/types.js';

const PHASES: MemberPhase[] = ['waiting', 'running', 'stopping', 'ended', 'failed', 'skipped'];
const NAMES = ['a', 'b', 'c', 'd', 'e'];

/** A set of up to 5 members; each depends only on earlier ones (the config refuses cycles). */
const members = fc
  .integer({ min: 1, max: NAMES.length })
  .chain((count) =>
    fc.tuple(
      ...NAMES.slice(0, count).map((name, index) =>
        fc.record({
          name: fc.constant(name),
          dependsOn: fc
            .subarray(NAMES.slice(0, index))
            .chain((names) =>
              fc.tuple(
                ...names.map((other) =>
                  fc.record({
                    other: fc.constant(other),
                    condition: fc.constantFrom(...CONDITIONS),
                    restart: fc.boolean(),
                  }),
                ),
              ),
            )
            .map((list) =>
              Object.fromEntries(
                list.map(({ other, condition, restart }) => [other, { condition, restart }]),
              ),
            ),
          essential: fc.boolean(),
          readyTimeoutMs: fc.integer({ min: 1, max: 1000 }),
          phase: fc.constantFrom(...PHASES),
          waitingSince: fc.integer({ min: 0, max: 1000 }),
          reached: fc.subarray([...CONDITIONS]).map((list) => new Set<Condition>(list)),
          cycling: fc.boolean(),
          status: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
          endedSeq: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
        }),
      ),
    ),
  )
  .map((list) => list as Member[]);

const snapshot = fc.record({
  stopping: fc.boolean(),
  now: fc.integer({ min: 0, max: 3000 }),
  members,
});

test('a process starts only when every condition holds, and never while the set stops', (t) => {
  fc.assert(
    fc.property(snapshot, (view) => {
      const byName = new Map(view.members.map((member) => [member.name, member]));
      for (const step of plan(view)) {
        if (step.kind !== 'start') continue;
        if (view.stopping) return false;
        const member = byName.get(step.name);
        if (member?.phase !== 'waiting') return false;
        for (const [name, { condition }] of Object.entries(member.dependsOn)) {
          const dependency = byName.get(name);
          if (!dependency?.reached.has(condition) || dependency.cycling) return false;
        }
      }
      return true;
    }),
  );
  t.pass();
});

test('a process gets its stop signal only once nothing that depends on it runs', (t) => {
  fc.assert(
    fc.property(snapshot, (view) => {
      for (const step of plan(view)) {
        if (step.kind !== 'stop') continue;
        const member = view.members.find((candidate) => candidate.name === step.name);
        if (member?.phase !== 'running') return false;
        const dependents = view.members.filter(
          (other) =>
            other.dependsOn[step.name] !== undefined &&
            (other.phase === 'running' || other.phase === 'stopping') &&
            (view.stopping || other.cycling),
        );
        if (dependents.length > 0) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('a waiting process fails once its timeout passes, or at once when its dependency ended', (t) => {
  fc.assert(
    fc.property(snapshot, (view) => {
      const byName = new Map(view.members.map((member) => [member.name, member]));
      const steps = plan(view);
      if (steps.some((step) => step.kind === 'shut-down')) return true;
      for (const member of view.members) {
        if (member.phase !== 'waiting' || view.stopping) continue;
        const unmet = Object.entries(member.dependsOn).filter(
          ([name, { condition }]) =>
            !byName.get(name)?.reached.has(condition) || byName.get(name)?.cycling,
        );
        const gone = unmet.some(([name]) => endedForGood(byName.get(name) as Member));
        const late = view.now - member.waitingSince >= member.readyTimeoutMs;
        const failed = steps.find((step) => step.kind === 'fail' && step.name === member.name);
        const expected = unmet.length > 0 && (gone || late);
        if (Boolean(failed) !== expected) return false;
        if (failed?.kind === 'fail' && failed.reason !== (gone ? 'ended' : 'timeout')) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test('an essential process ended for good stops the set, with its status', (t) => {
  fc.assert(
    fc.property(snapshot, (view) => {
      const essential = view.members.find((member) => member.essential && endedForGood(member));
      const steps = plan(view);
      if (view.stopping || essential === undefined)
        return !steps.some((step) => step.kind === 'shut-down');
      return (
        steps.length === 1 &&
        steps[0]?.kind === 'shut-down' &&
        steps[0].name === essential.name &&
        steps[0].status === (essential.status ?? 0)
      );
    }),
  );
  t.pass();
});

test('the set ends once every process ended for good, with the first failure or 0', (t) => {
  fc.assert(
    fc.property(members, (list) => {
      const ended = list.map((member) => ({ ...member, phase: 'ended' as const, cycling: false }));
      const steps = plan({ stopping: true, now: 0, members: ended });
      const failures = ended
        .filter((member) => (member.status ?? 0) !== 0)
        .sort((a, b) => (a.endedSeq ?? Infinity) - (b.endedSeq ?? Infinity));
      const status = failures[0]?.status ?? 0;
      return steps.length === 1 && steps[0]?.kind === 'end' && steps[0].status === status;
    }),
  );
  t.is(finalStatus([], undefined), 0);
});

test('the essential process that ended the set gives its status, even 0 after failures', (t) => {
  const member = (name: string, status: number, endedSeq: number): Member => ({
    name,
    dependsOn: {},
    essential: name === 'web',
    readyTimeoutMs: 1000,
    phase: 'ended',
    waitingSince: 0,
    reached: new Set(),
    cycling: false,
    status,
    endedSeq,
  });
  t.is(finalStatus([member('db', 143, 2), member('web', 0, 1)], 'web'), 0);
  t.is(finalStatus([member('db', 143, 2), member('web', 0, 1)]), 143);
  t.is(FAILED_START_STATUS, 1);
});

test('restart: true takes dependents along, and theirs, but not the others', (t) => {
  const member = (name: string, dependsOn: Member['dependsOn']): Member => ({
    name,
    dependsOn,
    essential: false,
    readyTimeoutMs: 1000,
    phase: 'running',
    waitingSince: 0,
    reached: new Set(),
    cycling: false,
  });
  const set = [
    member('db', {}),
    member('web', { db: { condition: 'healthy', restart: true } }),
    member('proxy', { web: { condition: 'started', restart: true } }),
    member('report', { db: { condition: 'started', restart: false } }),
  ];
  t.deepEqual([...cycleGroup('db', set)].sort(), ['db', 'proxy', 'web']);
  t.deepEqual([...cycleGroup('web', set)].sort(), ['proxy', 'web']);
});

test('the failed-start line names both processes', (t) => {
  const event = {
    name: 'worker',
    dependency: 'migrate',
    condition: 'completed' as const,
    reason: 'timeout' as const,
    waitedMs: 60_004,
    timeoutMs: 60_000,
    status: 1,
  };
  t.is(notStartedWords(event), 'worker: not started: migrate has not completed after 60s');
  t.is(
    notStartedWords({ ...event, condition: 'healthy', reason: 'ended' }),
    'worker: not started: migrate ended before it was healthy',
  );
});
