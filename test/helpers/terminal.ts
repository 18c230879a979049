// A real terminal for tests: a detached tmux session on a private server, running a plain bash.
import { execFileSync } from 'node:child_process';
import { eventually } from './proc.js';

export class Terminal {
  readonly #socket: string;
  readonly #target = 'test';

  constructor(name: string) {
    this.#socket = `keepalive-${name}-${process.pid}`;
    this.#tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      this.#target,
      '-x',
      '200',
      '-y',
      '50',
      'env PS1="$ " bash --norc --noprofile',
    );
  }

  /** Types text and presses Enter. */
  run(line: string): void {
    this.#tmux('send-keys', '-t', this.#target, '-l', line);
    this.#tmux('send-keys', '-t', this.#target, 'Enter');
  }

  /** Presses keys as tmux names them: C-c, C-z, 'C-\\'. */
  press(key: string): void {
    this.#tmux('send-keys', '-t', this.#target, key);
  }

  screen(): string {
    return this.#tmux('capture-pane', '-p', '-J', '-t', this.#target, '-S', '-500');
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    let match: RegExpMatchArray | null = null;
    await eventually(
      `${pattern} on the terminal`,
      () => (match = this.screen().match(pattern)) !== null,
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the screen was:\n${this.screen()}`);
    });
    return match as unknown as RegExpMatchArray;
  }

  close(): void {
    try {
      this.#tmux('kill-server');
    } catch {
      // already gone
    }
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
  }
}
