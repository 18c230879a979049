// keepalive as PID 1 of a real container: podman with runc over a root filesystem from rootfs.ts,
// with this checkout mounted read-only at /app (the fixtures), and the package as the tests
// installed it mounted at /usr/local, where `npm install -g` puts it in Node's images. On this
// machine podman needs `--runtime runc` (crun refuses the hybrid cgroup layout) and explicit
// ulimits (it cannot raise them), and its options must come before `--rootfs DIR`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Lines, PREFIX, type Ended } from './keepalive.js';
import { processExists, type Rootfs } from './rootfs.js';

const CHECKOUT = fileURLToPath(new URL('../../../', import.meta.url));
export const IN_CONTAINER_CLI = '/usr/local/bin/keepalive';
export const IN_CONTAINER_FIXTURES = '/app/test/fixtures/';
const BASE = ['--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

const NAME = 'keepalive-test-';
let counter = 0;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs podman to its end, without blocking the other tests of the file. */
export async function podman(args: readonly string[]): Promise<Run> {
  const started = performance.now();
  const child = spawn('podman', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr, ms: performance.now() - started };
}

/** Why containers cannot run here, or undefined if they can (`podman` and `runc` on PATH). */
export function podmanMissing(): string | undefined {
  for (const tool of ['podman', 'runc']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (apt-get install -y podman runc)`;
  }
  return undefined;
}

/** Containers of test runs whose process is gone (a run killed by a timeout never tidies up). */
export async function removeLeftoverContainers(): Promise<void> {
  const listed = await podman([
    'ps',
    '--all',
    '--filter',
    `name=^${NAME}`,
    '--format',
    '{{.Names}}',
  ]);
  for (const name of listed.stdout.split('\n')) {
    const pid = Number(new RegExp(`^${NAME}(\\d+)-\\d+$`).exec(name)?.[1]);
    if (pid > 0 && !processExists(pid)) await podman(['rm', '--force', '--time', '0', name]);
  }
}

export interface ContainerOptions {
  /** podman run options, e.g. ['--memory', '128m']. */
  podman?: readonly string[];
  /**
   * What runs as PID 1 before `args`, and without the checkout at /app (the single executable:
   * ['/keepalive']).
   */
  command?: readonly string[];
}

/**
 * `podman run --rm` of keepalive (the installed `keepalive ...args`) in the foreground, with
 * its stdout and stderr as lines to wait on; the container's exit status is podman's.
 */
export class Container {
  readonly name = `${NAME}${process.pid}-${++counter}`;
  readonly process: ChildProcess;
  readonly stderr = new Lines();
  readonly stdout = new Lines();
  readonly ended: Promise<Ended>;

  constructor(rootfs: Rootfs, args: readonly string[], options: ContainerOptions = {}) {
    const runArgs = [
      'run',
      '--rm',
      '--name',
      this.name,
      ...BASE,
      '--network',
      'none',
      '--read-only',
      '--env',
      'NO_COLOR=1',
      ...(options.command
        ? []
        : ['--volume', `${CHECKOUT}:/app:ro`, '--volume', `${PREFIX}:/usr/local:ro`]),
      ...(options.podman ?? []),
      '--rootfs',
      rootfs.dir,
      ...(options.command ?? ['keepalive']),
      ...args,
    ];
    // conmon, which podman leaves to watch the container, writes an `oom` file into its working
    // directory.
    this.process = spawn('podman', runArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: rootfs.work,
    });
    this.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.stdout.push(chunk));
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.ended = once(this.process, 'close').then(([status, signal]) => ({
      status: status as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  /** The first line (seen or to come) that matches, or an error after `ms`. */
  line(stream: 'stdout' | 'stderr', pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    return within(
      this[stream].next(pattern),
      ms,
      () =>
        `a line matching ${pattern} on the container's ${stream}; it has:\n${this[stream].text}`,
    );
  }

  /** The container's end (podman run's exit), or an error after `ms`. */
  end(ms = 30_000): Promise<Ended> {
    return within(
      this.ended,
      ms,
      () => `container ${this.name} to end; keepalive said:\n${this.stderr.text}`,
    );
  }

  /** The pid, in this machine's namespace, of the container's PID 1 (keepalive). */
  async hostPid(): Promise<number> {
    const pid = Number(await this.inspect('{{.State.Pid}}'));
    if (!(pid > 0)) throw new Error(`no pid for container ${this.name}`);
    return pid;
  }

  async inspect(format: string): Promise<string> {
    return (await podman(['inspect', '--format', format, this.name])).stdout.trim();
  }

  async kill(signal: string): Promise<void> {
    const result = await podman(['kill', '--signal', signal, this.name]);
    if (result.status !== 0)
      throw new Error(`podman kill --signal ${signal}: ${result.stderr.trim()}`);
  }

  exec(args: readonly string[]): Promise<Run> {
    return podman(['exec', this.name, ...args]);
  }

  /** `podman stop -t SECONDS`: podman sends SIGTERM, then SIGKILL after SECONDS. */
  stop(seconds: number): Promise<Run> {
    return podman(['stop', '-t', String(seconds), this.name]);
  }

  /** Removes the container whatever its state (for teardowns). */
  async remove(): Promise<void> {
    await podman(['rm', '--force', '--time', '0', this.name]);
    this.process.kill('SIGKILL');
  }
}

/** The promise's value, or an error naming what did not happen within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(
        () => reject(new Error(`timed out after ${ms}ms waiting for ${what()}`)),
        ms,
      )),
  );
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
