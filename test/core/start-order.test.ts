// The start order: every process after what it waits for, the file's order otherwise, and a cycle
// named when there is one. The properties together say the function is right for any graph: an
// order it gives respects every wait (so there was no cycle), and a cycle it names is one.
import test from 'ava';
import fc from 'fast-check';
import { startOrder, type Node } from '../../src/core/start-order.js';

/** Any graph on up to 8 processes, self-waits included. */
const graphs = fc
  .integer({ min: 1, max: 8 })
  .chain((size) =>
    fc.array(fc.uniqueArray(fc.nat({ max: size - 1 }), { maxLength: size }), {
      minLength: size,
      maxLength: size,
    }),
  )
  .map((needs) =>
    needs.map((indexes, index) => ({ name: `p${index}`, needs: indexes.map((i) => `p${i}`) })),
  );

/** Graphs without a cycle: each waits only for processes before it in some order, then shuffled. */
const acyclic = graphs
  .map((nodes) =>
    nodes.map((node, index) => ({
      name: node.name,
      needs: node.needs.filter((need) => Number(need.slice(1)) < index),
    })),
  )
  .chain((nodes) => fc.shuffledSubarray(nodes, { minLength: nodes.length }));

function respects(nodes: readonly Node[], order: readonly string[]): boolean {
  const position = new Map(order.map((name, index) => [name, index]));
  return nodes.every((node) =>
    node.needs.every((need) => (position.get(need) ?? -1) < (position.get(node.name) ?? -1)),
  );
}

test('an order has every process once, each after what it waits for', (t) => {
  fc.assert(
    fc.property(graphs, (nodes) => {
      const result = startOrder(nodes);
      if (!result.ok) return true;
      return (
        [...result.order].sort().join() ===
          nodes
            .map((node) => node.name)
            .sort()
            .join() && respects(nodes, result.order)
      );
    }),
  );
  t.pass();
});

test('a cycle named is a real cycle: each waits for the next, back to the first', (t) => {
  fc.assert(
    fc.property(graphs, (nodes) => {
      const result = startOrder(nodes);
      if (result.ok) return true;
      const needs = new Map(nodes.map((node) => [node.name, node.needs]));
      const { cycle } = result;
      return (
        cycle.length >= 2 &&
        cycle[0] === cycle.at(-1) &&
        new Set(cycle.slice(1)).size === cycle.length - 1 &&
        cycle.slice(1).every((name, index) => needs.get(cycle[index] as string)?.includes(name))
      );
    }),
  );
  t.pass();
});

test('a graph without a cycle always has an order', (t) => {
  fc.assert(fc.property(acyclic, (nodes) => startOrder(nodes).ok));
  t.pass();
});

test('processes that wait for nothing keep the file order', (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { minLength: 1 }), (names) => {
      const result = startOrder(names.map((name) => ({ name, needs: [] })));
      return result.ok && result.order.join() === names.join();
    }),
  );
  t.pass();
});

test("the issue's example, and a cycle named in the order of its waits", (t) => {
  t.deepEqual(
    startOrder([
      { name: 'db', needs: [] },
      { name: 'web', needs: ['db'] },
      { name: 'migrate', needs: [] },
      { name: 'worker', needs: ['migrate', 'web'] },
    ]),
    { ok: true, order: ['db', 'web', 'migrate', 'worker'] },
  );
  t.deepEqual(
    startOrder([
      { name: 'worker', needs: ['web'] },
      { name: 'db', needs: [] },
      { name: 'web', needs: ['db'] },
    ]),
    { ok: true, order: ['db', 'web', 'worker'] },
  );
  t.deepEqual(
    startOrder([
      { name: 'db', needs: [] },
      { name: 'web', needs: ['worker'] },
      { name: 'worker', needs: ['web'] },
    ]),
    { ok: false, cycle: ['web', 'worker', 'web'] },
  );
});
