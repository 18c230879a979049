// The order a set starts in: each process after every process it depends on, otherwise in the
// file's order (so that the same file always starts the same way). A cycle has no order: it is
// named, in the order of its waits (`web -> worker -> web`: web waits for worker, which waits for
// web). Stopping goes the other way.

export interface Node {
  name: string;
  /** The names it waits for; each must be a node's name. */
  needs: readonly string[];
}

export type StartOrder = { ok: true; order: string[] } | { ok: false; cycle: string[] };

export function startOrder(nodes: readonly Node[]): StartOrder {
  const cycle = findCycle(nodes);
  if (cycle !== undefined) return { ok: false, cycle };
  const started = new Set<string>();
  const order: string[] = [];
  // Kahn's algorithm, taking the first node in the file's order whose needs have all started.
  while (order.length < nodes.length) {
    const next = nodes.find(
      (node) => !started.has(node.name) && node.needs.every((need) => started.has(need)),
    );
    if (next === undefined) break; // unreachable without a cycle
    started.add(next.name);
    order.push(next.name);
  }
  return { ok: true, order };
}

/** The first cycle a depth-first walk in the file's order meets, its first name repeated last. */
function findCycle(nodes: readonly Node[]): string[] | undefined {
  const needs = new Map(nodes.map((node) => [node.name, node.needs]));
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    if (onPath.has(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name) || !needs.has(name)) return undefined;
    path.push(name);
    onPath.add(name);
    for (const need of needs.get(name) ?? []) {
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return undefined;
  };
  for (const node of nodes) {
    const cycle = visit(node.name);
    if (cycle) return cycle;
  }
  return undefined;
}
