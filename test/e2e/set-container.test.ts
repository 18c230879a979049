// A set as PID 1 of a real container (podman + runc, test/helpers/podman.ts): several processes
// started in dependency order, stopped in reverse order within podman stop's grace period, orphans
// reaped, and the container's status taken from the essential process.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Container,
  IN_CONTAINER_FIXTURES,
  podmanMissing,
  removeLeftoverContainers,
} from '../helpers/podman.js';
import { assembleRootfs, type Rootfs } from '../helpers/rootfs.js';

let rootfs: Rootfs | undefined;
let files = 0;

test.before(async () => {
  const missing = podmanMissing();
  if (missing !== undefined) throw new Error(`the container tests cannot run: ${missing}`);
  await removeLeftoverContainers();
  rootfs = assembleRootfs();
});

test.after.always(() => rootfs?.remove());

/** Writes a config file into the root filesystem; returns its path inside the container. */
function config(text: string): string {
  if (rootfs === undefined) throw new Error('no root filesystem');
  const name = `/etc/keepalive-${++files}.yaml`;
  writeFileSync(join(rootfs.dir, name), text);
  return name;
}

function container(
  t: { teardown(fn: () => Promise<void>): void },
  args: readonly string[],
): Container {
  if (rootfs === undefined) throw new Error('no root filesystem');
  const box = new Container(rootfs, args);
  t.teardown(() => box.remove());
  return box;
}

/** A process that says it started, and on SIGTERM says it stopped and exits 0 a moment later. */
const polite = (name: string): string =>
  `trap 'echo ${name} stopped; sleep 0.2; exit 0' TERM; echo ${name} up; ` +
  'while :; do sleep 0.1; done';

test('podman stop: a set stops in reverse dependency order, within the grace period, status 0', async (t) => {
  const file = config(
    [
      'kill-timeout: 5s',
      'processes:',
      '  app:',
      `    command: "${polite('app')}"`,
      '  worker:',
      `    command: "${polite('worker')}"`,
      '    depends-on: { app: started }',
      '  proxy:',
      `    command: "${polite('proxy')}"`,
      '    depends-on: { worker: started }',
      '',
    ].join('\n'),
  );
  const box = container(t, ['-c', file]);
  for (const name of ['app', 'worker', 'proxy'])
    await box.line('stdout', new RegExp(`^${name} +\\| ${name} up$`));
  const up = box.stdout.all.filter((line) => / up$/.test(line)).map((line) => line.split(' ')[0]);
  t.deepEqual(up, ['app', 'worker', 'proxy']);
  const stop = await box.stop(20);
  t.is(stop.status, 0, stop.stderr);
  t.notRegex(stop.stderr, /resorting to SIGKILL/);
  t.is((await box.end()).status, 0, box.stderr.text);
  const stopped = box.stdout.all
    .filter((line) => / stopped$/.test(line))
    .map((line) => line.split(' ')[0]);
  t.deepEqual(stopped, ['proxy', 'worker', 'app'], box.stdout.text);
  t.notRegex(box.stderr.text, /did not stop|sending SIGKILL/);
});

test("an essential process's end stops the rest; the container exits with its status", async (t) => {
  const file = config(
    [
      'processes:',
      '  app:',
      '    command: "echo app up; sleep 1; exit 3"',
      '    essential: true',
      '    restart: never',
      '  worker:',
      `    command: "${polite('worker')}"`,
      '',
    ].join('\n'),
  );
  const box = container(t, ['-c', file]);
  const ended = await box.end(60_000);
  t.is(ended.status, 3, box.stderr.text);
  t.true(
    box.stdout.all.some((line) => /^worker +\| worker stopped$/.test(line)),
    box.stdout.text,
  );
  t.regex(box.stderr.text, /app\[\d+\] exited with code 3/);
});

test('orphans of several processes are reaped by keepalive, PID 1', async (t) => {
  const orphans = `${IN_CONTAINER_FIXTURES}orphans.sh`;
  const file = config(
    [
      'processes:',
      '  one:',
      `    command: ["${orphans}", "20"]`,
      '  two:',
      `    command: ["${orphans}", "20"]`,
      '',
    ].join('\n'),
  );
  const box = container(t, ['-v', '-c', file]);
  await box.line('stdout', /^one +\| orphaned 20$/);
  await box.line('stdout', /^two +\| orphaned 20$/);
  const reaped = (): number =>
    box.stderr.all.filter((line) => /reaped orphan \d+ \(exited with code 0\)/.test(line)).length;
  const deadline = Date.now() + 30_000;
  while (reaped() < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.is(reaped(), 40, box.stderr.text);
  const stop = await box.stop(20);
  t.is(stop.status, 0, stop.stderr);
  t.is((await box.end()).status, 143, box.stderr.text);
});
