// `keepalive stop` end to end: what it says when the keepalive it asked does not end in time.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, Keepalive } from '../helpers/keepalive.js';
import { eventually, uniqueMarker, workspace } from '../helpers/proc.js';

const phase = (pidfile: string): string | undefined => {
  try {
    return (JSON.parse(readFileSync(`${pidfile}.state`, 'utf8')) as { phase?: string }).phase;
  } catch {
    return undefined;
  }
};

test('stop: a keepalive that took up FILE.stop and does not end is said so, with no word of a SIGTERM never sent', async (t) => {
  const marker = uniqueMarker();
  const pidfile = join(workspace(t, marker), 'app.pid');
  const keepalive = new Keepalive(['--pidfile', pidfile, '--kill-timeout', '2s', '--', 'sh', fixture('ignore-stop.sh'), marker]);
  await keepalive.stdout.next(/^ready$/);
  const stop = new Keepalive(['stop', '--pidfile', pidfile]);
  // Stopping, through FILE.stop: now freeze it, so that it cannot end within the wait.
  await eventually('the stop request taken up', () => phase(pidfile) === 'stopping');
  keepalive.signal('SIGSTOP');
  const stopped = await stop.ended;
  keepalive.signal('SIGCONT');
  await keepalive.ended;
  t.is(stopped.status, 1);
  t.is(stop.stderr.text, `keepalive: keepalive[${keepalive.pid}] is still running 12s after it took up ${pidfile}.stop\n`);
});
