// The set's log lines, with real processes: each process named (name[pid]), JSON lines carrying
// `process`, and the set's own lines (waiting, a failed start, the stop, the essential end).
import test from 'ava';
import { createLogger } from '../../src/log.js';
import { logSet } from '../../src/log-words.js';
import { superviseSet } from '../../src/index.js';

test('JSON lines carry process; the set says what waits, what failed, what ends it', async (t) => {
  const lines: string[] = [];
  const log = await createLogger({
    format: 'json',
    level: 'normal',
    colorLevel: 0,
    write: (line) => void lines.push(line),
  });
  const set = superviseSet({
    processes: [
      {
        name: 'migrate',
        command: 'sh',
        args: ['-c', 'exit 3'],
        restart: 'never',
      },
      {
        name: 'worker',
        command: 'sleep',
        args: ['60'],
        dependsOn: { migrate: { condition: 'completed', restart: false } },
        essential: true,
      },
    ],
  });
  t.teardown(() => set.stop('SIGINT', true));
  logSet(set, log);
  const result = await set.done;
  t.is(result.status, 1);
  const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const byEvent = (name: string) => events.find((event) => event['event'] === name);
  t.like(byEvent('waiting'), {
    process: 'worker',
    message:
      'worker waits for migrate to complete (not started if that takes over 60s: its ready-timeout)',
  });
  const spawn = byEvent('spawn');
  t.is(spawn?.['process'], 'migrate');
  t.regex(String(spawn?.['message']), /^migrate\[\d+\] started$/);
  t.like(byEvent('not-started'), {
    process: 'worker',
    level: 'error',
    message: 'worker: not started: migrate ended without completing',
  });
  t.like(byEvent('essential-end'), {
    process: 'worker',
    message:
      'worker is essential and ended for good: stopping the others; keepalive exits with status 1',
  });
});

test('text: the stop line names the signal and how many processes', async (t) => {
  const lines: string[] = [];
  const log = await createLogger({
    format: 'text',
    level: 'normal',
    colorLevel: 0,
    write: (line) => void lines.push(line),
  });
  const set = superviseSet({
    processes: [
      { name: 'one', command: 'sleep', args: ['60'] },
      { name: 'two', command: 'sleep', args: ['60'] },
    ],
  });
  t.teardown(() => set.stop('SIGINT', true));
  logSet(set, log);
  let spawns = 0;
  set.on('spawn', () => {
    if (++spawns === 2) set.stop('SIGTERM', true);
  });
  await set.done;
  t.true(
    lines.includes(
      'keepalive: SIGTERM received: stopping 2 processes, each once nothing that depends on it ' +
        'runs\n',
    ),
  );
  t.true(lines.some((line) => /^keepalive: one\[\d+\] killed: SIGTERM/.test(line)));
});
