import test from 'ava';
import { step, type Phase, type RunInput } from '../../src/core/run-phase.js';

const walk = (
  inputs: RunInput[],
  from: Phase = 'starting',
): { phase: Phase; actions: string[] } => {
  let phase = from;
  const actions: string[] = [];
  for (const input of inputs) {
    const next = step(phase, input);
    phase = next.phase;
    actions.push(...next.actions);
  }
  return { phase, actions };
};

test('a stopped run: signal and timer, then the sweep, then the end', (t) => {
  t.deepEqual(walk(['spawned', 'stop', 'exited', 'empty']), {
    phase: 'ended',
    actions: ['signal', 'arm', 'signal', 'sweep', 'finish'],
  });
});

test('a leader that exits by itself: what it left gets the stop signal and a timer of its own', (t) => {
  t.deepEqual(walk(['spawned', 'exited']), {
    phase: 'sweeping',
    actions: ['signal', 'arm', 'sweep'],
  });
});

test('the sweep is the last action, because it may finish at once', (t) => {
  for (const phase of ['running', 'stopping'] as const)
    t.is(step(phase, 'exited').actions.at(-1), 'sweep');
});

test('a second stop changes nothing; the deadline and a second Ctrl+C kill', (t) => {
  t.deepEqual(step('stopping', 'stop'), { phase: 'stopping', actions: [] });
  t.deepEqual(step('stopping', 'deadline').actions, ['kill']);
  t.deepEqual(step('sweeping', 'kill-now').actions, ['kill']);
  t.deepEqual(step('sweeping', 'stop'), { phase: 'sweeping', actions: [] });
});

test('a received signal is forwarded while the run runs and stops, not in the sweep', (t) => {
  t.deepEqual(step('running', 'forward'), { phase: 'running', actions: ['forward'] });
  t.deepEqual(step('stopping', 'forward'), { phase: 'stopping', actions: ['forward'] });
  t.deepEqual(step('sweeping', 'forward'), { phase: 'sweeping', actions: [] });
});

test('nothing moves an ended run', (t) => {
  const inputs = ['spawned', 'stop', 'forward', 'exited', 'deadline', 'kill-now', 'empty'] as const;
  for (const input of inputs) {
    t.deepEqual(step('ended', input), { phase: 'ended', actions: [] });
  }
});
