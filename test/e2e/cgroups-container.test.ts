// keepalive as PID 1 of a container that may make cgroups (podman --privileged, a private cgroup
// namespace; on this hybrid host the container sees v1 hierarchies only, so the freezer is used):
// a hook's `env -i setsid` daemon is not taken for the child's leftover, and keepalive's cgroups
// live inside the container's own.
import test from 'ava';
import { Container, podmanMissing, removeLeftoverContainers } from '../helpers/podman.js';
import { assembleRootfs, type Rootfs } from '../helpers/rootfs.js';

let rootfs: Rootfs | undefined;

test.before(async () => {
  const missing = podmanMissing();
  if (missing !== undefined) throw new Error(`the container tests cannot run: ${missing}`);
  await removeLeftoverContainers();
  rootfs = assembleRootfs({ programs: { 'usr/bin/setsid': '/usr/bin/setsid' } });
});

test.after.always(() => rootfs?.remove());

const CGROUPS = ['--privileged', '--cgroupns=private'];

async function run(t: { teardown(fn: () => Promise<void>): void }, args: readonly string[]) {
  if (rootfs === undefined) throw new Error('no root filesystem');
  const container = new Container(rootfs, args, { podman: CGROUPS });
  t.teardown(() => container.remove());
  const ended = await container.end(60_000);
  return { ended, container };
}

test("PID 1 with cgroups: a hook's env -i setsid daemon is not the child's", async (t) => {
  const hook = "env -i setsid sh -c 'sleep 600 &' </dev/null >/dev/null 2>&1";
  const args = ['--delay', '0', '--max-restarts', '2', '--kill-timeout', '20s', '--on-exit', hook];
  const { ended, container } = await run(t, [...args, '--', 'sh', '-c', 'sleep 0.5; exit 1']);
  t.is(ended.status, 1, container.stderr.text);
  t.notRegex(container.stderr.text, /left \d+ process/);
  t.is(container.stderr.all.filter((line) => line.includes('started')).length, 3);
});

test('PID 1 with cgroups: the child in keepalive-1/run-1, keepalive in supervisor', async (t) => {
  // Moved there once started: at its very first instructions it may still be in keepalive's own.
  const show = 'sleep 0.5; cat /proc/$$/cgroup /proc/1/cgroup';
  const { ended, container } = await run(t, ['--restart', 'never', '--', 'sh', '-c', show]);
  t.is(ended.status, 0, container.stderr.text);
  t.regex(container.stdout.text, /^\d+:freezer:\/keepalive-1\/run-1$/m);
  t.regex(container.stdout.text, /^\d+:freezer:\/keepalive-1\/supervisor$/m);
});
