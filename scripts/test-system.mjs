// What `npm test` needs from the machine: root, and the programs the tests drive for real, as the
// Debian packages that bring them. Missing packages are installed with apt-get before the tests.
// To need one more, add a line to PACKAGES.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const onPath = (...programs) => () => programs.every((program) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0);
const aFile = (path) => () => existsSync(path);

/** Each package, what the tests use it for, and how to tell it is already there. */
export const PACKAGES = [
  { name: 'util-linux', for: 'unshare (PID namespaces), setpriv (parent-death signal)', present: onPath('unshare', 'setpriv') },
  { name: 'bsdutils', for: 'script (a terminal)', present: onPath('script') },
  { name: 'tmux', for: 'a terminal to type Ctrl+C into', present: onPath('tmux') },
  { name: 'podman', for: 'keepalive as PID 1 of a container', present: onPath('podman') },
  { name: 'runc', for: "podman's runtime", present: onPath('runc') },
  { name: 'python3', for: 'fixtures', present: onPath('python3') },
  { name: 'systemd', for: 'systemd-notify, a $NOTIFY_SOCKET client', present: onPath('systemd-notify') },
  {
    name: 'python3-systemd',
    for: 'a Python $NOTIFY_SOCKET client',
    present: () => spawnSync('/usr/bin/python3', ['-c', 'import systemd.daemon']).status === 0,
  },
  { name: 'libsystemd-dev', for: 'sd_notify() from C', present: aFile('/usr/include/systemd/sd-daemon.h') },
  { name: 'gcc', for: 'compiling the C fixtures', present: onPath('gcc') },
];

/** Exit statuses of `npm test` when the machine cannot be set up: each its own. */
export const NOT_ROOT = 77;
export const NO_APT = 78;
export const APT_FAILED = 79;

/** The names of the packages that are not there. */
export const missingPackages = () => PACKAGES.filter((wanted) => !wanted.present()).map((wanted) => wanted.name);

/**
 * Installs what is missing; returns undefined when all is there, else a one-line reason and the
 * exit status to stop with.
 */
export function setUpMachine(say = (line) => process.stderr.write(`${line}\n`)) {
  if (process.getuid?.() !== 0) {
    return { status: NOT_ROOT, reason: 'npm test needs root (its tests make PID namespaces and containers): run it as root' };
  }
  const missing = missingPackages();
  if (missing.length === 0) return undefined;
  const command = `apt-get install -y ${missing.join(' ')}`;
  if (!onPath('apt-get')()) {
    return { status: NO_APT, reason: `npm test needs the Debian packages ${missing.join(', ')} and there is no apt-get here: install them, then run npm test again` };
  }
  say(`npm test: installing what the tests drive: ${command}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!apt(['update', '-qq']) || !apt(['install', '-y', '-qq', ...missing])) {
    return { status: APT_FAILED, reason: `npm test could not install ${missing.join(' ')} (apt-get failed, its words are above): try \`apt-get update && ${command}\`` };
  }
  const still = missingPackages();
  if (still.length > 0) return { status: APT_FAILED, reason: `npm test: still missing after apt-get: ${still.join(' ')}` };
  return undefined;
}
