// What a set of processes is made of, as the config file (set/config.ts) hands it to the engine
// (set/process-set.ts). Every key is an option-table row; these types only gather them.
import type { CONDITIONS } from '../option-table.js';
import type { SuperviseOptions } from '../options.js';
import type { OutputTarget } from '../output/types.js';

/** What a process waits for in another before it starts. */
export type Condition = (typeof CONDITIONS)[number];

export interface Dependency {
  condition: Condition;
  /** Restarted when the process it depends on is restarted (compose's `restart: true`). */
  restart: boolean;
}

/** One process of a set: the single command's options, and the keys only a set has. */
export interface ProcessOptions extends SuperviseOptions {
  name: string;
  /** By the other process's name. */
  dependsOn?: Readonly<Record<string, Dependency>>;
  /** When it ends for good, keepalive stops the rest and exits with its status. */
  essential?: boolean;
  /** How long this process waits for its dependencies' conditions before its start fails. */
  readyTimeout?: number;
  /**
   * `output-dir: DIR`: its output goes to DIR/NAME.log (unless it names its own `output`); DIR is
   * made and checked before the set starts.
   */
  outputDir?: string;
}

export interface SetOptions {
  /** In the file's order; the engine starts them in dependency order. */
  processes: readonly ProcessOptions[];
  /**
   * keepalive's signals are the set's (the CLI): a stop signal stops the set, the others reach
   * every process. Default: when any process has `handleSignals`.
   */
  handleSignals?: boolean;
  /** Where each process's stdout and stderr go (the CLI's prefixed lines); unset: inherited. */
  output?: (name: string) => OutputTarget;
}

/** A process as `keepalive status` and the API show it. */
export interface ProcessView {
  name: string;
  /**
   * waiting (for its dependencies), starting (spawned, not ready yet), running (ready), backing-off
   * (before a restart), stopping, ended (for good), failed (could not start, or its dependencies
   * never got there).
   */
  state: 'waiting' | 'starting' | 'running' | 'backing-off' | 'stopping' | 'ended' | 'failed';
  pid: number | undefined;
  /** Wall-clock milliseconds of the current run's start. */
  startedAt: number | undefined;
  restarts: number;
  /** The last exit in words ("exited with code 1") and keepalive's status for it. */
  lastExit: { words: string; status: number } | undefined;
  ready: boolean;
}
