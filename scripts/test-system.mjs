// What `npm test` needs from the machine: root, and the programs the tests drive for real, as the
// Debian packages that bring them. Missing packages are installed with apt-get before the tests.
// To need one more, add a line to PACKAGES.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const found = (program) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const onPath =
  (...programs) =>
  () =>
    programs.every(found);
const aFile = (path) => () => existsSync(path);
// Debian's python3-systemd is installed for the system's python, not for one on PATH.
const pythonModule = (name) => () =>
  spawnSync('/usr/bin/python3', ['-c', `import ${name}`]).status === 0;

/** Each package, what the tests use it for, and how to tell it is already there. */
export const PACKAGES = [
  {
    name: 'util-linux',
    for: 'unshare, setpriv (parent-death signal)',
    present: onPath('unshare', 'setpriv'),
  },
  { name: 'bsdutils', for: 'script (a terminal)', present: onPath('script') },
  { name: 'tmux', for: 'a terminal to press Ctrl+C in', present: onPath('tmux') },
  { name: 'podman', for: 'keepalive as PID 1 of a container', present: onPath('podman') },
  { name: 'runc', for: "podman's runtime", present: onPath('runc') },
  { name: 'python3', for: 'fixtures', present: onPath('python3') },
  { name: 'systemd', for: 'systemd-notify', present: onPath('systemd-notify') },
  {
    name: 'python3-systemd',
    for: 'sd_notify from Python',
    present: pythonModule('systemd.daemon'),
  },
  {
    name: 'libsystemd-dev',
    for: 'sd_notify from C',
    present: aFile('/usr/include/systemd/sd-daemon.h'),
  },
  { name: 'gcc', for: 'compiling the C fixtures', present: onPath('gcc') },
];

/** Exit statuses of `npm test` when the machine cannot be set up: one for each reason. */
export const NOT_ROOT = 77;
export const NO_APT = 78;
export const APT_FAILED = 79;

/** The names of the packages that are not there. */
export const missingPackages = () =>
  PACKAGES.filter((wanted) => !wanted.present()).map((wanted) => wanted.name);

/**
 * Installs what is missing. Returns undefined when all is there, else a one-line reason and the
 * exit status to stop with.
 */
export function setUpMachine(say = (line) => process.stderr.write(`${line}\n`)) {
  if (process.getuid?.() !== 0) {
    return {
      status: NOT_ROOT,
      reason: 'npm test needs root (its tests make PID namespaces and containers): run it as root',
    };
  }
  const missing = missingPackages();
  if (missing.length === 0) return undefined;
  const names = missing.join(' ');
  const command = `apt-get install -y ${names}`;
  if (!found('apt-get')) {
    return {
      status: NO_APT,
      reason: `npm test needs the Debian packages ${names}, and there is no apt-get: install them`,
    };
  }
  say(`npm test: installing what the tests drive: ${command}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) =>
    spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!apt(['update', '-qq']) || !apt(['install', '-y', '-qq', ...missing])) {
    return {
      status: APT_FAILED,
      reason: `npm test could not install ${names} (apt-get's words are above)`,
    };
  }
  const still = missingPackages();
  if (still.length > 0)
    return {
      status: APT_FAILED,
      reason: `npm test: still missing after apt-get: ${still.join(' ')}`,
    };
  return undefined;
}
