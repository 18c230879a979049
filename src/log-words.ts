// The words for each event a supervisor emits: which severity, which line, which JSON fields.
// How a line is written (text or JSON, colour, levels) is log.ts's.
import { formatDuration } from './core/duration.js';
import type { DroppedEvent, HealthEvent, OutputEvent, WatchdogEvent } from './core/events.js';
import { exitFields, exitMessage, exitSeverity } from './core/exit-line.js';
import { describeOutcome, hangWords, healthWords, memoryWords } from './core/exit.js';
import { MAX_LINE_BYTES } from './core/notify.js';
import { signalNameOf } from './core/signals.js';
import { who } from './core/who.js';
import type { Logger } from './log.js';
import { DROP_REPORT_INTERVAL_MS } from './heart/notify-channel.js';
import type { EventEmitter } from 'node:events';
import type { SetEvents, SupervisorEvents } from './core/events.js';
import { notStartedWords, seconds } from './core/set-plan.js';

// The exit's words moved to core/exit-line.ts (the on-exit hook is told them too); still said from
// here.
export { exitMessage } from './core/exit-line.js';

/** A Supervisor, or a ProcessSet (which passes on each of its processes' events). */
type Supervised = EventEmitter<SupervisorEvents>;

/**
 * Subscribes a logger to everything a set reports: its processes' lines (in JSON, each with
 * `process`, its name) and the set's own.
 */
export function logSet(set: EventEmitter<SetEvents>, log: Logger): void {
  const named: Logger = {
    enabled: (severity) => log.enabled(severity),
    line: (severity, event, message, fields = {}) =>
      log.line(
        severity,
        event,
        message,
        typeof fields['name'] === 'string' ? { process: fields['name'], ...fields } : fields,
      ),
  };
  logSupervisor(set as unknown as Supervised, named);
  set.on('waiting', (event) => {
    if (!named.enabled('info')) return;
    const list = event.waitingFor.map(({ name, condition }) => `${name} ${condition}`);
    named.line(
      'info',
      'waiting',
      `${event.name} waits for ${list.join(', ')} (not started if not within ` +
        `${seconds(event.timeoutMs)}, --ready-timeout)`,
      { ...event },
    );
  });
  set.on('not-started', (event) =>
    named.line('error', 'not-started', notStartedWords(event), {
      ...event,
      waitedMs: Math.round(event.waitedMs),
    }),
  );
  set.on('set-stop', (event) => {
    if (!log.enabled('info')) return;
    const cause = event.received && event.signal !== undefined ? `${event.signal} received: ` : '';
    const count = event.running.length === 1 ? '1 process' : `${event.running.length} processes`;
    log.line(
      'info',
      'set-stop',
      `${cause}stopping ${count}, each once nothing that depends on it runs`,
      { signal: event.signal ?? null, received: event.received, running: event.running },
    );
  });
  set.on('essential-end', (event) =>
    named.line(
      'error',
      'essential-end',
      `${event.name} is essential and ended for good: stopping the others; keepalive exits ` +
        `with status ${event.status}`,
      { ...event },
    ),
  );
}

/** Subscribes a logger to everything a supervisor reports. */
export function logSupervisor(supervisor: Supervised, log: Logger): void {
  supervisor.on('spawn', (event) => {
    if (!log.enabled('info')) return;
    const name = who(event.name, event.pid);
    const message =
      event.restarts === 0 ? `${name} started` : `${name} started (restart ${event.restarts})`;
    log.line('info', 'spawn', message, {
      name: event.name,
      pid: event.pid,
      restarts: event.restarts,
    });
  });
  supervisor.on('exit', (event) => {
    const severity = exitSeverity(event);
    if (!log.enabled(severity)) return;
    log.line(severity, 'exit', exitMessage(event), exitFields(event));
  });
  supervisor.on('stop', (event) => {
    if (!log.enabled('info')) return;
    const cause = event.received ? `${event.signal} received: ` : '';
    const how = event.received ? '' : ` with ${event.signal}`;
    const message =
      event.pid === undefined
        ? `${cause}stopping; ${event.name} is not running and will not be restarted`
        : `${cause}stopping ${who(event.name, event.pid)}${how} (SIGKILL after ` +
          `${formatDuration(event.killTimeoutMs)})`;
    log.line('info', 'stop', message, {
      name: event.name,
      pid: event.pid ?? null,
      signal: event.signal,
      received: event.received,
      killTimeoutMs: event.killTimeoutMs,
    });
  });
  supervisor.on('escalate', (event) => {
    log.line(
      'warn',
      'escalate',
      `${who(event.name, event.pid)} still running ${formatDuration(event.afterMs)} after ` +
        `${event.sent}: sending SIGKILL`,
      {
        name: event.name,
        pid: event.pid,
        sent: event.sent,
        afterMs: Math.round(event.afterMs),
      },
    );
  });
  supervisor.on('sweep', (event) => {
    const then =
      event.then === 'restart' ? 'the restart waits until they end' : 'keepalive ends once they do';
    const count = event.pids.length === 1 ? '1 process' : `${event.pids.length} processes`;
    const kill =
      event.killInMs > 0
        ? `${event.signal} sent, SIGKILL in ${formatDuration(event.killInMs)}`
        : 'SIGKILL sent';
    log.line(
      'info',
      'sweep',
      `${who(event.name, event.pid)} left ${count} behind (${event.left}): ${then} (${kill})`,
      {
        name: event.name,
        pid: event.pid,
        pids: event.pids,
        signal: event.signal,
        then: event.then,
        killInMs: Math.round(event.killInMs),
      },
    );
  });
  supervisor.on('swept', (event) => {
    if (event.killed.length === 0) return;
    log.line(
      'warn',
      'swept',
      `killed what ${who(event.name, event.pid)} left behind with SIGKILL: ${event.killedList}`,
      {
        name: event.name,
        pid: event.pid,
        killed: event.killed,
      },
    );
  });
  supervisor.on('forward', (event) => {
    if (!log.enabled('debug')) return;
    log.line('debug', 'forward', `${event.signal} forwarded to ${who(event.name, event.pid)}`, {
      name: event.name,
      pid: event.pid,
      signal: event.signal,
    });
  });
  supervisor.on('suspend', (event) => {
    if (!log.enabled('debug')) return;
    const what = event.ignored
      ? 'ignored (keepalive is PID 1: nothing would resume the child)'
      : `suspending ${who(event.name, event.pid)} and keepalive (SIGCONT or fg resumes both)`;
    log.line('debug', 'suspend', `${event.signal} received: ${what}`, {
      name: event.name,
      pid: event.pid ?? null,
      signal: event.signal,
      ignored: event.ignored,
    });
  });
  supervisor.on('ignore', (event) => {
    log.line(
      'debug',
      'ignore',
      `${event.signal} received: ignored (it means nothing to keepalive or the child)`,
      { ...event, pid: event.pid ?? null },
    );
  });
  supervisor.on('reap', (event) => {
    if (!log.enabled('debug')) return;
    const how =
      event.signal === null
        ? `exited with code ${event.code}`
        : `killed by ${signalNameOf(event.signal) ?? `signal ${event.signal}`}`;
    log.line('debug', 'reap', `reaped orphan ${event.pid} (${how})`, {
      pid: event.pid,
      code: event.code,
      signal: event.signal,
    });
  });
  logHeart(supervisor, log);
  logExtras(supervisor, log);
  logMainPid(supervisor, log);
}

/**
 * MAINPID=: the hand-over, the leader's exit after it, and what was refused (warned once a run,
 * then at -v).
 */
function logMainPid(supervisor: Supervised, log: Logger): void {
  supervisor.on('main-pid', (event) => {
    const { name, pid, mainPid, refused, refusals } = event;
    const severity = event.accepted ? 'debug' : refusals === 1 ? 'warn' : 'debug';
    if (!log.enabled(severity)) return;
    const message = event.accepted
      ? `${who(name, pid)} handed over to ${who(name, mainPid)} (MAINPID=${mainPid}): its exit ` +
        `ends the run from now on`
      : `${who(name, pid)} sent MAINPID=${mainPid}: refused, ${refused}; keepalive goes on with ` +
        `${who(name, pid)}${refusals > 1 ? ` (${refusals} refused in this run)` : ''}`;
    log.line(severity, 'main-pid', message, { ...event });
  });
  supervisor.on('leader-exit', (event) => {
    if (!log.enabled('debug')) return;
    const message =
      `${who(event.name, event.pid)} ${describeOutcome(event.outcome)} after ` +
      `handing over; ${who(event.name, event.mainPid)} (MAINPID) runs on`;
    log.line('debug', 'leader-exit', message, {
      name: event.name,
      pid: event.pid,
      mainPid: event.mainPid,
      outcome: event.outcome,
    });
  });
}

/** The memory limit's verdict and the on-exit hook's results. */
function logExtras(supervisor: Supervised, log: Logger): void {
  supervisor.on('over-memory', (event) => {
    log.line(
      'warn',
      'over-memory',
      `${who(event.name, event.pid)} over its memory limit: ` +
        `${memoryWords(event.usedBytes, event.limitBytes)}; sending ${event.signal}`,
      { ...event },
    );
  });
  supervisor.on('hook', (event) => {
    const done = event.result === 'done';
    if (!log.enabled(done ? 'debug' : 'warn')) return;
    const hook =
      event.hookPid === undefined ? 'on-exit hook' : `on-exit hook ${who('sh', event.hookPid)}`;
    const missed =
      event.missed === 0
        ? ''
        : ` (told of 1 exit, ${event.missed} more missed while the last hook ran)`;
    const took = formatDuration(event.durationMs);
    const message =
      event.result === 'done'
        ? `${hook} done in ${took}${missed}`
        : event.result === 'timed-out'
          ? `${hook} ${event.detail}: killed with its process group (--on-exit-timeout)`
          : `${hook} failed: ${event.detail} after ${took}${missed}; keepalive goes on as before`;
    log.line(done ? 'debug' : 'warn', 'hook', message, {
      ...event,
      hookPid: event.hookPid ?? null,
      durationMs: Math.round(event.durationMs),
    });
  });
}

/** What the child says on the notify channel, and what the watchdog and health check make of it. */
function logHeart(supervisor: Supervised, log: Logger): void {
  const named = (event: { name: string; pid: number }): string => who(event.name, event.pid);
  supervisor.on('hang', (event) => {
    log.line(
      'warn',
      'hang',
      `${named(event)} hung: ${hangWords(event.reason, event.silentMs)}; sending ${event.signal}`,
      {
        ...event,
        silentMs: Math.round(event.silentMs),
      },
    );
  });
  supervisor.on('unhealthy', (event) => {
    log.line(
      'warn',
      'unhealthy',
      `${named(event)} unhealthy: ${healthWords(event.failures)} (${event.detail}); sending ` +
        `${event.signal}`,
      { ...event },
    );
  });
  supervisor.on('dropped', (event) =>
    log.line('warn', 'dropped', droppedMessage(event), { ...event }),
  );
  supervisor.on('output', (event) =>
    log.line(event.kind === 'failed' ? 'error' : 'warn', 'output', outputMessage(event), {
      ...event,
    }),
  );
  supervisor.on('ready', (event) => {
    log.line(
      'debug',
      'ready',
      `${named(event)} is ready (READY=1 after ${formatDuration(event.afterMs)})`,
      {
        ...event,
        afterMs: Math.round(event.afterMs),
      },
    );
  });
  supervisor.on('status', (event) =>
    log.line('debug', 'status', `${named(event)} status: ${event.text}`, { ...event }),
  );
  supervisor.on('reloading', (event) =>
    log.line('debug', 'reloading', `${named(event)} is reloading (RELOADING=1)`, { ...event }),
  );
  supervisor.on('reloaded', (event) => {
    log.line(
      'debug',
      'reloaded',
      `${named(event)} is ready again (READY=1 ${formatDuration(event.afterMs)} after RELOADING=1)`,
      { ...event, afterMs: Math.round(event.afterMs) },
    );
  });
  supervisor.on('stopping', (event) =>
    log.line('debug', 'stopping', `${named(event)} is stopping (STOPPING=1)`, { ...event }),
  );
  supervisor.on('watchdog', (event) => {
    const fields =
      event.change === 'extend' ? { ...event, dueInMs: Math.round(event.dueInMs) } : { ...event };
    log.line('debug', 'watchdog', watchdogMessage(event), fields);
  });
  supervisor.on('health', (event) => {
    const message = healthMessage(event);
    if (message !== undefined) log.line('debug', 'health', message, { ...event });
  });
}

function watchdogMessage(event: WatchdogEvent): string {
  const name = who(event.name, event.pid);
  if (event.change === 'extend')
    return (
      `${name} extended its deadline: next heartbeat due in ` +
      `${formatDuration(event.dueInMs)} (EXTEND_TIMEOUT_USEC)`
    );
  if (event.timeoutMs === null) return `${name} switched the watchdog off (WATCHDOG_USEC=0)`;
  return `${name} set its heartbeat timeout to ${formatDuration(event.timeoutMs)} (WATCHDOG_USEC)`;
}

/**
 * "worker: dropped 1234 lines (ENOSPC) of its output to /var/log/worker.log"; "worker: left
 * /var/log/worker.log.1 alone (it is a symbolic link), so /var/log/worker.log is not rotated".
 */
function outputMessage(event: OutputEvent): string {
  switch (event.kind) {
    case 'dropped':
      return (
        `${event.name}: dropped ${event.lines} ${event.lines === 1 ? 'line' : 'lines'} ` +
        `(${event.reason}) of its output to ${event.file}`
      );
    case 'left-alone':
      return (
        `${event.name}: left ${event.path} alone (${event.why}, not keepalive's): ` +
        `${event.file} is rotated only up to the name before it`
      );
    case 'failed':
      return `${event.name}: ${event.message}`;
  }
}

/** "worker[12] dropped 3 notify lines: 2 not UTF-8, 1 over 4096 bytes" */
function droppedMessage(event: DroppedEvent): string {
  const parts = [
    [event.notUtf8, 'STATUS= not UTF-8'],
    [event.tooLong, `over ${MAX_LINE_BYTES} bytes`],
    [event.malformed, 'not KEY=VALUE or a bad value'],
    [event.notAllowed, 'from a process --notify-access does not allow'],
  ] as const;
  const reasons = parts.filter(([count]) => count > 0).map(([count, why]) => `${count} ${why}`);
  const lines = event.total === 1 ? 'line' : 'lines';
  return (
    `${who(event.name, event.pid)} dropped ${event.total} notify ${lines}: ` +
    `${reasons.join(', ')} (reported at most every ${formatDuration(DROP_REPORT_INTERVAL_MS)})`
  );
}

/** Failures and the first success after them; a passing probe every interval is not news. */
function healthMessage(event: HealthEvent): string | undefined {
  const name = who(event.name, event.pid);
  switch (event.verdict) {
    case 'healthy':
      return undefined;
    case 'starting':
      return `${name} health check failed in the start period, not counted: ${event.detail}`;
    case 'failing':
    case 'unhealthy':
      return `${name} health check failed (${event.failures} of ${event.retries}): ${event.detail}`;
  }
}
