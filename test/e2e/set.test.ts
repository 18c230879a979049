// A set through the installed `keepalive -c FILE`: start order, prefixed output, a stop in reverse
// dependency order on SIGTERM, SIGHUP passed to every process, an essential process's status.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keepalive } from '../helpers/keepalive.js';

function configIn(t: ExecutionContext, yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-set-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keepalive.yaml');
  writeFileSync(file, yaml);
  return { dir, file };
}

/** Says it is up, appends NAME to the log when stopped (after `pause`), passes HUP to a file. */
const trapping = (log: string, name: string, pause = '0'): string =>
  JSON.stringify(
    `trap 'sleep ${pause}; echo ${name} >> ${log}; exit 0' TERM; ` +
      `trap 'echo ${name} >> ${log}.hup' HUP; echo ${name} up; ` +
      `while :; do sleep 0.05; done`,
  );

test('-c FILE: dependency order, prefixed lines, SIGHUP to all, SIGTERM stops in reverse', async (t) => {
  const { dir, file } = configIn(t, '');
  const log = join(dir, 'stops');
  writeFileSync(
    file,
    [
      'kill-timeout: 20s',
      'processes:',
      '  db:',
      `    command: ["sh", "-c", ${trapping(log, 'db')}]`,
      '  web:',
      `    command: ["sh", "-c", ${trapping(log, 'web', '0.5')}]`,
      '    depends-on: { db: started }',
      '  worker:',
      `    command: ["sh", "-c", ${trapping(log, 'worker', '0.5')}]`,
      '    depends-on: { web: started }',
      '',
    ].join('\n'),
  );
  const keepalive = new Keepalive(['-c', file]);
  await keepalive.stdout.next(/^worker \| worker up$/);
  await keepalive.stdout.next(/^db {5}\| db up$/);
  await keepalive.stdout.next(/^web {4}\| web up$/);
  const starts = keepalive.stderr.all.filter((line) => / started$/.test(line));
  t.deepEqual(
    starts.map((line) => /keepalive: (\w+)\[/.exec(line)?.[1]),
    ['db', 'web', 'worker'],
  );
  keepalive.signal('SIGHUP');
  for (let tries = 0; tries < 100; tries++) {
    const said = readFileSync(`${log}.hup`, { encoding: 'utf8', flag: 'a+' });
    if (said.trim().split('\n').length === 3) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.deepEqual(readFileSync(`${log}.hup`, 'utf8').trim().split('\n').sort(), [
    'db',
    'web',
    'worker',
  ]);
  keepalive.signal('SIGTERM');
  const ended = await keepalive.ended;
  t.is(ended.status, 0);
  t.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['worker', 'web', 'db']);
  t.regex(keepalive.stderr.text, /SIGTERM received: stopping 3 processes/);
});

test('-c FILE: an essential process that ends stops the rest; keepalive exits with its status', async (t) => {
  const { file } = configIn(
    t,
    [
      'processes:',
      '  db:',
      '    command: ["sleep", "600"]',
      '  web:',
      '    command: ["sh", "-c", "sleep 0.3; exit 9"]',
      '    restart: never',
      '    essential: true',
      '    depends-on: { db: started }',
      '',
    ].join('\n'),
  );
  const keepalive = new Keepalive(['-c', file]);
  const ended = await keepalive.ended;
  t.is(ended.status, 9);
  t.regex(
    keepalive.stderr.text,
    /web is essential and ended for good: stopping the others; keepalive exits with status 9/,
  );
  t.regex(keepalive.stderr.text, /db\[\d+\] killed: SIGTERM/);
});
