// The OOM counter's file and where keepalive makes its cgroups, from real mountinfo and
// /proc/self/cgroup samples (test/fixtures/cgroup).
import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  cgroupPlaces,
  groupName,
  groupOwner,
  oomCounterCandidates,
  parseCgroupMemberships,
  parseCgroupMounts,
  parseProcs,
  type CgroupChoice,
  type CgroupPlace,
} from '../../src/core/cgroup.js';

const SAMPLES = new URL('../../../test/fixtures/cgroup/', import.meta.url);
const sample = (name: string): [string, string] => [
  readFileSync(new URL(`${name}/mountinfo`, SAMPLES), 'utf8'),
  readFileSync(new URL(`${name}/cgroup`, SAMPLES), 'utf8'),
];
const candidates = (name: string): string[] => oomCounterCandidates(...sample(name));

test('hybrid host without a cgroup namespace: the v1 memory cgroup under the mount, then the empty v2 root', (t) => {
  t.deepEqual(candidates('host-hybrid'), [
    '/sys/fs/cgroup/memory/process_api/a204652fc707976c305e62f7d9154fa8/memory.oom_control',
    '/sys/fs/cgroup/unified/memory.events',
  ]);
});

test('podman on v1 without a cgroup namespace: the host path is taken relative to the mount root', (t) => {
  // /proc/self/cgroup says /libpod_parent/libpod-<id>, and that directory is what is mounted.
  t.deepEqual(candidates('podman-v1'), ['/sys/fs/cgroup/memory/memory.oom_control']);
});

test('podman on v1 with a private cgroup namespace: root and path are both /', (t) => {
  t.deepEqual(candidates('podman-v1-cgroupns'), ['/sys/fs/cgroup/memory/memory.oom_control']);
});

test('a cgroup namespace that kept the outer mounts: the memory mount (root /../..) cannot be used', (t) => {
  t.deepEqual(candidates('host-cgroupns-inherited'), ['/sys/fs/cgroup/unified/memory.events']);
});

test('cgroup v2 alone: memory.events of the cgroup, under the mount', (t) => {
  t.deepEqual(candidates('v2'), ['/sys/fs/cgroup/keepalive-sample/memory.events']);
});

test('cgroup v2 with a cgroup namespace: memory.events at the mount point', (t) => {
  t.deepEqual(candidates('v2-cgroupns'), ['/sys/fs/cgroup/memory.events']);
});

test('cgroup v2 in a container without a cgroup namespace: only its own cgroup is mounted', (t) => {
  t.deepEqual(candidates('v2-container'), ['/sys/fs/cgroup/memory.events']);
});

test('mountinfo lines are read by field, with optional fields and escaped paths', (t) => {
  const [mountinfo] = sample('host-hybrid');
  const memory = parseCgroupMounts(mountinfo).find((mount) =>
    mount.superOptions.includes('memory'),
  );
  t.deepEqual(memory, {
    root: '/',
    mountPoint: '/sys/fs/cgroup/memory',
    fsType: 'cgroup',
    superOptions: ['rw', 'memory'],
  });
  // Optional fields (shared:N, master:N) come before the separator; a space in a path is \040.
  const tagged =
    '35 31 0:32 /my\\040app /sys/fs/cgroup/mem\\134ory rw,relatime shared:9 master:2 - cgroup cgroup rw,memory';
  t.deepEqual(parseCgroupMounts(tagged), [
    {
      root: '/my app',
      mountPoint: '/sys/fs/cgroup/mem\\ory',
      fsType: 'cgroup',
      superOptions: ['rw', 'memory'],
    },
  ]);
  t.deepEqual(oomCounterCandidates(tagged, '4:memory:/my app/worker\n'), [
    '/sys/fs/cgroup/mem\\ory/worker/memory.oom_control',
  ]);
});

test('a path that only starts like the mount root is not under it; garbage is skipped', (t) => {
  const mountinfo =
    '88 84 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\nnot a line\n';
  t.deepEqual(oomCounterCandidates(mountinfo, '4:memory:/docker/abcdef\n'), []);
  t.deepEqual(oomCounterCandidates(mountinfo, '4:memory:/docker/abc/inner\n'), [
    '/sys/fs/cgroup/memory/inner/memory.oom_control',
  ]);
  t.deepEqual(oomCounterCandidates('', '4:memory:/\n'), []);
  t.deepEqual(parseCgroupMemberships('garbage\n1:cpu:/\n0::/a b\n'), [
    { hierarchy: 1, controllers: ['cpu'], path: '/' },
    { hierarchy: 0, controllers: [], path: '/a b' },
  ]);
});

const places = (
  name: string,
  choice: CgroupChoice = 'auto',
  underSystemd = false,
): CgroupPlace[] => {
  const [mountinfo, procSelfCgroup] = sample(name);
  return cgroupPlaces({ mountinfo, procSelfCgroup, choice, underSystemd });
};

test('where keepalive makes its cgroups: v2 first, then the v1 freezer, under its own', (t) => {
  t.deepEqual(places('host-hybrid'), [
    { kind: 'v2', home: '/sys/fs/cgroup/unified' },
    { kind: 'v1', home: '/sys/fs/cgroup/freezer' },
  ]);
  t.deepEqual(places('host-hybrid', 'v1'), [{ kind: 'v1', home: '/sys/fs/cgroup/freezer' }]);
  t.deepEqual(places('host-hybrid', 'off'), []);
});

test('a container on v1 without a cgroup namespace: the freezer mount is its own cgroup', (t) => {
  t.deepEqual(places('podman-v1', 'v1'), [{ kind: 'v1', home: '/sys/fs/cgroup/freezer' }]);
});

test("under systemd, a cgroup below the root is a unit's: none is made there", (t) => {
  const mountinfo = '30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n';
  const inUnit = cgroupPlaces({
    mountinfo,
    procSelfCgroup: '0::/system.slice/cron.service\n',
    choice: 'auto',
    underSystemd: true,
  });
  t.deepEqual(inUnit, []);
  const elsewhere = cgroupPlaces({
    mountinfo,
    procSelfCgroup: '0::/system.slice/cron.service\n',
    choice: 'auto',
    underSystemd: false,
  });
  t.deepEqual(elsewhere, [{ kind: 'v2', home: '/sys/fs/cgroup/system.slice/cron.service' }]);
});

test('names: keepalive-PID is told apart from any other; cgroup.procs is a pid a line', (t) => {
  t.is(groupOwner(groupName(812)), 812);
  for (const other of [
    'keepalive-',
    'keepalive-0',
    'keepalive-01',
    'keepalive-12x',
    'supervisor',
    'run-1',
  ])
    t.is(groupOwner(other), undefined, other);
  t.deepEqual(parseProcs('12\n345\n\n'), [12, 345]);
  t.deepEqual(parseProcs(''), []);
});
