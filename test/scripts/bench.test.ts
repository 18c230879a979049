// The benchmarks' smoke mode: checks that every part still runs and reports, never how fast.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../scripts/bench/run.js', import.meta.url));

test('every benchmark part runs in smoke mode and reports its rows as a table and JSON', (t) => {
  const json = join(mkdtempSync(join(tmpdir(), 'keepalive-bench-test-')), 'out.json');
  const table = execFileSync(process.execPath, [RUN, '--smoke', '--json', json], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const { rows } = JSON.parse(readFileSync(json, 'utf8')) as {
    rows: Array<{
      part: string;
      keepalive: { median: number };
      budget?: string;
      withinBudget?: boolean;
    }>;
  };
  const parts = new Set(rows.map((row) => row.part));
  t.deepEqual(
    [...parts],
    [
      'restart gap',
      'start-up',
      'stop',
      'signal forwarding',
      'idle',
      'endurance',
      'hang lag',
      'notify throughput',
      'set',
      'output files',
    ],
  );
  t.true(rows.every((row) => Number.isFinite(row.keepalive.median)));
  // A budget's ✓ or ✗ is computed from the figures, so every budgeted row carries it.
  t.true(rows.every((row) => row.budget === undefined || typeof row.withinBudget === 'boolean'));
  t.is(table.split('\n').filter((line) => line.startsWith('| ')).length, rows.length + 1);
});

test('an unknown part is a usage error', (t) => {
  const error = t.throws(() =>
    execFileSync(process.execPath, [RUN, 'warp-speed'], { encoding: 'utf8', stdio: 'pipe' }),
  ) as unknown as { status: number; stderr: string };
  t.is(error.status, 2);
  t.regex(error.stderr, /unknown part "warp-speed"/);
});
