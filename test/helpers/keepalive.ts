// Runs the real keepalive command as a child of the test, with its output as lines to wait on:
// the package's bin as users install it (packed, then installed from the tarball), not this
// checkout's build. `npm test` installs it once for the run (scripts/test-run.mjs) and names its
// prefix in TEST_KEEPALIVE_PREFIX; under a bare `npx ava FILE`, the first worker installs it
// (scripts/test-install.mjs, once per build).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { endWithWorker } from './cleanup.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function installedPrefix(): string {
  const given = process.env['TEST_KEEPALIVE_PREFIX'];
  if (given) return given;
  const installer = join(ROOT, 'scripts', 'test-install.mjs');
  const said = execFileSync(process.execPath, [installer], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return said.trim();
}

/** The program's absolute path: tests may give their processes a PATH without it. */
function onPath(program: string): string {
  return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim();
}

/** Where the package is installed: PREFIX/bin/keepalive links into PREFIX/lib/node_modules. */
export const PREFIX = installedPrefix();
/** The installed `keepalive` command, a link to the package's bin. */
export const KEEPALIVE = join(PREFIX, 'bin', 'keepalive');
// `keepalive` by name, as a user types it, also under a bare `npx ava` (npm test puts it there).
if (!(process.env['PATH'] ?? '').split(':').includes(dirname(KEEPALIVE))) {
  process.env['PATH'] = `${dirname(KEEPALIVE)}:${process.env['PATH'] ?? ''}`;
}
/** For `node CLI ...args`: the installed command, with the command line its hashbang gives it. */
export const CLI = KEEPALIVE;
/** This checkout's plain build of the command, for tests that compare the bin with it. */
export const PLAIN_CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
/** This checkout's build of the API. */
export const API_INDEX = fileURLToPath(new URL('../../src/index.js', import.meta.url));
/**
 * Put before what the tests start: the kernel sends it SIGKILL when the test's worker dies,
 * however it dies (util-linux's setpriv sets the parent-death signal, then execs the command).
 */
export const DIE_WITH_TEST = [onPath('setpriv'), '--pdeathsig', 'KILL', '--'];
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
export const fixture = (name: string): string => `${FIXTURES}${name}`;

export interface Ended {
  status: number | null;
  signal: NodeJS.Signals | null;
}

/** Lines of a stream, with a way to wait for one that matches. */
export class Lines {
  readonly all: string[] = [];
  #partial = '';
  #waiters: Array<{ pattern: RegExp; resolve: (match: RegExpMatchArray) => void }> = [];

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) {
      this.all.push(line);
      this.#waiters = this.#waiters.filter((waiter) => {
        const match = line.match(waiter.pattern);
        if (match) waiter.resolve(match);
        return !match;
      });
    }
  }

  /** Resolves with the first line (already seen or yet to come) that matches. */
  next(pattern: RegExp, after = 0): Promise<RegExpMatchArray> {
    for (const line of this.all.slice(after)) {
      const match = line.match(pattern);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve) => this.#waiters.push({ pattern, resolve }));
  }

  get text(): string {
    return this.all.map((line) => `${line}\n`).join('') + this.#partial;
  }
}

export class Keepalive {
  readonly process: ChildProcess;
  readonly stderr = new Lines();
  readonly stdout = new Lines();
  readonly ended: Promise<Ended>;

  /**
   * `wrapper` runs keepalive under another command, e.g. `unshare --pid --fork --mount-proc`;
   * `command` is keepalive itself (default: the installed `keepalive`; the single executable: [its
   * path]). It ends with the test file's worker, with everything it started, however the worker
   * ends.
   */
  constructor(
    args: readonly string[],
    options: {
      env?: NodeJS.ProcessEnv;
      cwd?: string;
      wrapper?: readonly string[];
      command?: readonly string[];
    } = {},
  ) {
    const keepalive = options.command ?? [KEEPALIVE];
    const command = [...DIE_WITH_TEST, ...(options.wrapper ?? []), ...keepalive, ...args];
    const [program, ...programArgs] = command as [string, ...string[]];
    this.process = spawn(program, programArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      cwd: options.cwd,
    });
    endWithWorker(this.process.pid);
    this.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.stdout.push(chunk));
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    // 'close' waits for the pipes to drain, so every line has arrived when this settles.
    this.ended = once(this.process, 'close').then(([status, signal]) => ({
      status: status as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  get pid(): number {
    return this.process.pid as number;
  }

  /** The pid of the child from keepalive's "started" line, the nth one (0 for the first start). */
  async childPid(nth = 0): Promise<number> {
    const pattern =
      nth === 0 ? /\[(\d+)\] started$/ : new RegExp(`\\[(\\d+)\\] started \\(restart ${nth}\\)$`);
    const match = await this.stderr.next(pattern);
    return Number(match[1]);
  }

  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }
}

/** Runs keepalive to its end. */
export async function runKeepalive(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<Ended & { stderr: string; stdout: string; lines: string[] }> {
  const keepalive = new Keepalive(args, options);
  const ended = await keepalive.ended;
  return {
    ...ended,
    stderr: keepalive.stderr.text,
    stdout: keepalive.stdout.text,
    lines: keepalive.stderr.all,
  };
}

/** True while a process with this pid exists (zombies included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
