// --wait-ready for a single command: spawned, it is starting until READY=1, then running (the API's
// view, and the state file `keepalive status` reads).
import test from 'ava';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord } from '../src/core/instance-state.js';
import { supervise } from '../src/index.js';
import { createLogger } from '../src/log.js';
import { claimInstance } from '../src/guardian/instance.js';
import { eventually, uniqueMarker, workspace } from './helpers/proc.js';

test('--wait-ready: starting until READY=1, then running; without it, running once spawned', async (t) => {
  const marker = uniqueMarker();
  const directory = workspace(t, marker);
  const pidfile = join(directory, 'app.pid');
  const log = await createLogger({
    format: 'text',
    level: 'quiet',
    colorLevel: 0,
    write: () => {},
  });
  const claim = await claimInstance({
    pidfile,
    name: 'app',
    stopSignal: 'SIGTERM',
    killTimeout: 2000,
    log,
  });
  if (claim.kind !== 'claimed') {
    t.fail(claim.kind);
    return;
  }
  const flag = join(directory, 'go');
  const supervisor = supervise({
    command: 'sh',
    args: [
      '-c',
      `while [ ! -e ${flag} ]; do sleep 0.05; done; echo READY=1 >&3; exec sleep 60 # ${marker}`,
    ],
    waitReady: true,
  });
  t.teardown(async () => {
    supervisor.stop();
    await supervisor.done;
    claim.instance.release();
  });
  claim.instance.attach(supervisor);
  await once(supervisor, 'spawn');
  const phase = (): unknown => {
    const parsed = parseRecord(readFileSync(`${pidfile}.state`, 'utf8'));
    return parsed.ok ? parsed.value.phase : undefined;
  };
  t.like(supervisor.view(), { state: 'starting', ready: false });
  t.true(await eventually('the state file says starting', () => phase() === 'starting'));
  const ready = once(supervisor, 'ready');
  (await import('node:fs')).writeFileSync(flag, '');
  await ready;
  t.like(supervisor.view(), { state: 'running', ready: true });
  t.true(await eventually('the state file says ready', () => phase() === 'ready'));

  const plain = supervise({ command: 'sleep', args: ['60'] });
  t.teardown(async () => {
    plain.stop();
    await plain.done;
  });
  await once(plain, 'spawn');
  t.like(plain.view(), { state: 'running', ready: true });
});
