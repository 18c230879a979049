// keepalive --check: the start order in words, one line a process with what it waits for.
import { startOrder } from '../core/start-order.js';
import type { Condition, ProcessOptions, SetOptions } from './types.js';

/** What waiting for each condition is, in words (--check's lines and the log's alike). */
export const WAIT: Record<Condition, string> = {
  started: 'to start',
  ready: 'to be ready',
  healthy: 'to be healthy',
  completed: 'to complete',
};

export function startOrderLines(set: SetOptions): string[] {
  const byName = new Map(set.processes.map((options) => [options.name, options]));
  const order = startOrder(
    set.processes.map(({ name, dependsOn }) => ({ name, needs: Object.keys(dependsOn ?? {}) })),
  );
  // The config reader has refused a cycle already.
  if (!order.ok) throw new Error(`a cycle: ${order.cycle.join(' -> ')}`);
  const width = Math.max(...order.order.map((name) => name.length));
  return order.order.map((name) => {
    const options = byName.get(name) as ProcessOptions;
    const waits = Object.entries(options.dependsOn ?? {}).map(([other, { condition, restart }]) => {
      const plain = condition === 'ready' && byName.get(other)?.waitReady !== true;
      // Without wait-ready, a process is ready once it has started.
      const words = plain ? `${WAIT.ready} (started: no wait-ready)` : WAIT[condition];
      return `${other} ${words}${restart ? ', restarted with it' : ''}`;
    });
    const what = waits.length === 0 ? 'starts at once' : `waits for ${waits.join(', ')}`;
    const essential = options.essential ? '; essential' : '';
    // Where its lines go, when not to keepalive's stdout: --check answers that too.
    const output = options.output === undefined ? '' : `; output to ${options.output}`;
    return `${name.padEnd(width)}  ${what}${essential}${output}`;
  });
}
