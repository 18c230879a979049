// The set's engine: several processes, each with its own supervisor, started in dependency order
// once their dependencies' conditions hold, stopped in reverse order. (A stub until the engine
// lands: the shape is what the CLI and the guardian code against.)
import { EventEmitter } from 'node:events';
import type { SupervisorEvents } from '../core/events.js';
import type { SignalName } from '../core/signals.js';
import type { Environment, SupervisorResult } from '../supervisor.js';
import type { ProcessView, SetOptions } from './types.js';

export class ProcessSet extends EventEmitter<SupervisorEvents> {
  readonly done: Promise<SupervisorResult>;

  constructor(options: SetOptions, world: Environment) {
    super();
    void options;
    void world;
    this.done = Promise.reject(new Error('several processes: not built yet'));
  }

  /** Stops every process in reverse dependency order; then `done` settles. */
  stop(signal?: SignalName, received = false): void {
    void signal;
    void received;
  }

  /** Restarts one process by name (and those that depend on it with restart: true); or all. */
  restart(name?: string): boolean {
    void name;
    return false;
  }

  /** Passes a signal to every running process. */
  forward(signal: SignalName): void {
    void signal;
  }

  processes(): ProcessView[] {
    return [];
  }
}
