// Runs the real keepalive CLI as a child of the test, with its output as lines to wait on.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
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
   * `command` is keepalive itself (default: node and the built cli.js; the single executable: [its path]).
   */
  constructor(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; wrapper?: readonly string[]; command?: readonly string[] } = {}) {
    const [program, ...programArgs] = [...(options.wrapper ?? []), ...(options.command ?? [process.execPath, CLI]), ...args] as [string, ...string[]];
    this.process = spawn(program, programArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      cwd: options.cwd,
    });
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
    const pattern = nth === 0 ? /\[(\d+)\] started$/ : new RegExp(`\\[(\\d+)\\] started \\(restart ${nth}\\)$`);
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
  return { ...ended, stderr: keepalive.stderr.text, stdout: keepalive.stdout.text, lines: keepalive.stderr.all };
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
