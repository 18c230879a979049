// Two SIGKILLs in a row: a set's keepalive is killed, and the next one is killed too while it is
// still stopping what the first left. The one after must still know each leftover as the process
// it was (its name, its stop signal, its kill timeout), stop it, and run one copy of each.
import test from 'ava';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord } from '../../src/core/instance-state.js';
import { Keepalive } from '../helpers/keepalive.js';
import { children, eventually, uniqueMarker, workspace } from '../helpers/proc.js';

test('SIGKILL while the next keepalive stops the leftovers: the third knows them by name', async (t) => {
  t.timeout(60_000);
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'set.pid');
  const config = join(directory, 'set.yaml');
  // db ignores its stop signals, so that stopping it takes its kill timeout: the window in which
  // the second keepalive is killed.
  writeFileSync(
    config,
    'processes:\n' +
      '  db:\n' +
      `    command: ["sh", "-c", "trap '' INT TERM; exec sleep ${marker}"]\n` +
      '    stop-signal: SIGINT\n' +
      '    kill-timeout: 4s\n' +
      '  web:\n' +
      `    command: ["sleep", "${marker}"]\n` +
      '    depends-on: { db: started }\n',
  );
  const start = (): Keepalive => {
    const keepalive = new Keepalive(['-c', config, '--pidfile', pidfile]);
    t.teardown(() => keepalive.signal('SIGKILL'));
    return keepalive;
  };
  const kill = async (keepalive: Keepalive): Promise<void> => {
    const exited = once(keepalive.process, 'exit');
    keepalive.signal('SIGKILL');
    await exited;
  };

  const first = start();
  const db = await first.stderr.next(/db\[(\d+)\] started/);
  await first.stderr.next(/web\[\d+\] started/);
  await eventually('the record naming both', () => {
    const record = parseRecord(readFileSync(`${pidfile}.state`, 'utf8'));
    return record.ok && record.value.processes?.every(({ child }) => child !== null);
  });
  await kill(first);

  const second = start();
  await second.stderr.next(/stopping db\[\d+\], web\[\d+\], left running/);
  await kill(second);

  const third = start();
  const said = await third.stderr.next(/stopping .*, left running by a keepalive that was killed/);
  t.regex(said[0], new RegExp(`stopping db\\[${db[1]}\\](, web\\[\\d+\\])?, left running`));
  // Its own stop signal, SIGINT, which it ignores: SIGKILL after its own 4 s, not the set's sum.
  await third.stderr.next(new RegExp(`db\\[${db[1]}\\] still running .* its stop signal`));
  await third.stderr.next(/web\[\d+\] started/);
  const now = await eventually('one copy of each', () => {
    const running = children(marker);
    return running.length === 2 ? running : undefined;
  });
  t.false(
    now.some(({ pid }) => pid === Number(db[1])),
    'the old db is gone',
  );
  third.signal('SIGTERM');
  t.is((await third.ended).signal, null);
});
