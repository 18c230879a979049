import test from 'ava';
import { supervise } from '../../src/index.js';
import { memoryWatches, rssBytes, treeBytes } from '../../src/tree/memory.js';

test("rssBytes reads a live process's resident set, and 0 for one that is gone", (t) => {
  const own = rssBytes(process.pid);
  t.true(own > 10e6 && own < 2e9, String(own));
  t.is(rssBytes(2 ** 22 + 1), 0);
  t.is(treeBytes([2 ** 22 + 1, 2 ** 22 + 2]), 0);
  t.true(treeBytes([process.pid, 2 ** 22 + 1]) > 10e6);
});

test('no memory timer at all without --max-memory; one per run with it, gone when the run ends', async (t) => {
  const run = async (maxMemory: number | undefined): Promise<number> => {
    const supervisor = supervise({
      command: 'sleep',
      args: ['5'],
      restart: 'never',
      ...(maxMemory === undefined ? {} : { maxMemory }),
    });
    await new Promise((resolve) => supervisor.once('spawn', resolve));
    const during = memoryWatches();
    supervisor.stop();
    await supervisor.done;
    t.is(memoryWatches(), 0);
    return during;
  };
  t.is(await run(undefined), 0);
  t.is(await run(1e9), 1);
});
