// keepalive status | stop | restart | rotate --pidfile FILE: their words, and what they do to the
// keepalive that owns FILE, from the files beside it and /proc. Exit statuses follow the LSB init
// scripts: 0 running or done, 3 not running (no FILE, or a stale one), 4 unknown, 1 not done.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import yargs from 'yargs';
import type { InstanceRecord, Verdict } from '../core/instance-state.js';
import {
  childRuns,
  recordProcesses,
  staleWords,
  type ProcessRecord,
} from '../core/instance-state.js';
import { LSB, statusReport, statusText } from '../core/status-report.js';
import { checkFlags } from '../cli-options.js';
import { stripControl } from '../core/shown-text.js';
import { DEFAULTS, UsageError } from '../options.js';
import {
  describeError,
  InstanceError,
  instancePaths,
  PRIVATE_MODE,
  removeStaleFiles,
  tryLock,
  viewInstance,
  type InstancePaths,
} from './instance-files.js';
import { findLeftovers, leftoverNames, recordedName, stopLeftovers } from './leftovers.js';
import { waitUntil } from './poll.js';
import { readStat } from '../tree/proc.js';
import { removeIfOurs, writeAtomically } from './safe-files.js';
import { who } from '../core/who.js';

const CONTROL_USAGE = {
  status: 'keepalive status --pidfile FILE [--json]',
  stop: 'keepalive stop --pidfile FILE',
  restart: 'keepalive restart --pidfile FILE [NAME]',
  rotate: 'keepalive rotate --pidfile FILE [NAME]',
} as const;
const CONTROL_HELP = {
  status:
    'Says whether the keepalive that owns FILE runs, and how its child (or each process of its ' +
    'set) does.\nExit status: 0 running, 1 keepalive runs but its child (or a process of its ' +
    'set) does not,\n3 not running (no FILE, or a stale one), 4 unknown.',
  stop:
    'Stops the keepalive that owns FILE and its child, and waits until they are gone.\n' +
    'Exit status: 0 stopped, 3 not running (no FILE; or a stale one, whose leftovers are ' +
    'then\nstopped and removed), 4 unknown, 1 still running after the wait.',
  restart:
    'Restarts the child of the keepalive that owns FILE (not keepalive itself), or with NAME that ' +
    'one\nprocess of its set (without NAME every one), and waits until the new one runs.\n' +
    'Exit status: 0 restarted, 2 no process NAME, 3 not running, 4 unknown, 1 no new child in ' +
    'time.',
  rotate:
    'Rotates the output files (--output, output:, output-dir:) of the keepalive that owns FILE ' +
    "now,\nor with NAME only that process's, and waits until it is done. SIGHUP is not this: " +
    'it goes to\nthe child.\n' +
    'Exit status: 0 rotated, 2 no process NAME, 3 not running, 4 unknown, 1 not rotated (no ' +
    'output file,\na file that could not be, or no word in time).',
} as const;

/** The three usage lines, for keepalive --help. */
export const CONTROL_USAGES: readonly string[] = Object.values(CONTROL_USAGE);

export type ControlCommand =
  | { command: 'status'; pidfile: string; json: boolean }
  | { command: 'stop'; pidfile: string }
  | { command: 'restart'; pidfile: string; name: string | undefined }
  | { command: 'rotate'; pidfile: string; name: string | undefined };

export interface ControlOutput {
  out(text: string): void;
  err(text: string): void;
}

const POLL_MS = 50;
/** `keepalive restart NAME` with no such process: a usage error. */
const UNKNOWN_NAME = 2;
/** Beyond the supervisor's kill timeout: its group sweep, its cleanup, a busy machine. */
const MARGIN_MS = 10_000;

/**
 * `keepalive status|stop|restart --pidfile FILE`: only as the first word, so `keepalive -- status`
 * runs a program.
 */
export function parseControlCommand(argv: readonly string[]): ControlCommand | undefined {
  const command = argv[0];
  if (command !== 'status' && command !== 'stop' && command !== 'restart' && command !== 'rotate')
    return undefined;
  const usage = CONTROL_USAGE[command];
  const words = argv.slice(1);
  const parsed = yargs([...words])
    .scriptName(`keepalive ${command}`)
    .usage(`${usage}\n\n${CONTROL_HELP[command]}`)
    .parserConfiguration({
      'boolean-negation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': false,
      'dot-notation': false,
    })
    .options({
      pidfile: { type: 'string', describe: 'the pidfile the keepalive was started with' },
      ...(command === 'status'
        ? { json: { type: 'boolean', describe: 'print one JSON object' } }
        : {}),
    })
    .strictOptions()
    .fail((message, error) => {
      throw error ?? new UsageError(explainControlMessage(message, words, usage));
    })
    .version(false)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(100, process.stderr.columns ?? 100))
    .parseSync();
  // Only `restart` and `rotate` take a word: the name of one process of a set.
  const positional = parsed._.map(String);
  const extra = positional.slice(command === 'restart' || command === 'rotate' ? 1 : 0)[0];
  if (extra !== undefined)
    throw new UsageError(`unknown option or word "${extra}"; usage: ${usage}`);
  const pidfile = parsed.pidfile as string | undefined;
  checkFlags({ pidfile }, { pidfile });
  if (pidfile === undefined)
    throw new UsageError(`${command}: --pidfile FILE is required; usage: ${usage}`);
  switch (command) {
    case 'status':
      return { command, pidfile, json: parsed['json'] === true };
    case 'stop':
      return { command, pidfile };
    case 'restart':
    case 'rotate':
      return { command, pidfile, name: positional[0] };
  }
}

function explainControlMessage(message: string, words: readonly string[], usage: string): string {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (!unknown?.[1]) return `${message}; usage: ${usage}`;
  const first = unknown[1].split(', ')[0] ?? '';
  const typed = words.find((word) => word.replace(/^-+/, '').split('=')[0] === first) ?? first;
  return `unknown option or word "${typed}"; usage: ${usage}`;
}

export async function runControl(command: ControlCommand, output: ControlOutput): Promise<number> {
  const paths = instancePaths(command.pidfile);
  switch (command.command) {
    case 'status':
      return status(paths, command.json, output);
    case 'stop':
      return stop(paths, output);
    case 'restart':
      return restart(paths, command.name, output);
    case 'rotate':
      return rotate(paths, command.name, output);
  }
}

function status(paths: InstancePaths, json: boolean, output: ControlOutput): number {
  const { verdict } = viewInstance(paths);
  const orphan =
    verdict.kind === 'stale' && verdict.record
      ? findLeftovers(verdict.record).proven[0]
      : undefined;
  const { report, exitStatus } = statusReport({
    pidfile: paths.pidfile,
    verdict,
    orphanPid: orphan?.pid,
    now: Date.now(),
  });
  output.out(json ? `${JSON.stringify(report)}\n` : statusText(report));
  return exitStatus;
}

/** Says why there is nothing to act on, with the status that goes with it; undefined if running. */
function notRunning(
  verdict: Verdict,
  paths: InstancePaths,
  output: ControlOutput,
): number | undefined {
  switch (verdict.kind) {
    case 'running':
      return undefined;
    case 'absent':
      output.err(`keepalive: not running (no ${paths.pidfile})\n`);
      return LSB.notRunning;
    case 'stale':
      output.err(
        `keepalive: not running: stale ${paths.pidfile} ` +
          `(${staleWords(verdict.reason, verdict.pid)})\n`,
      );
      return LSB.notRunning;
    case 'unknown':
      output.err(
        `keepalive: cannot tell whether ${paths.pidfile} is running: ${verdict.problem}\n`,
      );
      return LSB.unknown;
  }
}

/** How long `stop` waits for a keepalive that holds the lock but has not written its pid yet. */
const TAKEOVER_WAIT_MS = 5_000;

async function stop(
  paths: InstancePaths,
  output: ControlOutput,
  deadline = performance.now() + TAKEOVER_WAIT_MS,
): Promise<number> {
  const { verdict } = viewInstance(paths);
  if (verdict.kind === 'stale') {
    const stopped = await stopStale(paths, output);
    if (stopped !== 'busy') return stopped;
    // Another keepalive is taking FILE over right now: stop that one once it has said who it is.
    if (performance.now() > deadline) {
      output.err(
        `keepalive: ${paths.pidfile} is locked by a keepalive that has not written its pid; try ` +
          `again\n`,
      );
      return LSB.unknown;
    }
    await sleep(POLL_MS);
    return stop(paths, output, deadline);
  }
  const notNow = notRunning(verdict, paths, output);
  if (notNow !== undefined || verdict.kind !== 'running') return notNow ?? LSB.unknown;

  const { pid, record } = verdict;
  // The verdict proved this start time (FILE.lock's holder, the record's writer): nothing else
  // is signalled.
  const startTime = record?.supervisor.startTime ?? readStat(pid)?.startTime;
  // Asked through FILE.stop, keepalive stops its child with its own --stop-signal. If the request
  // is not taken up (no inotify, an older keepalive), SIGTERM does the same with SIGTERM.
  const asked = await askToStop(paths, pid, startTime);
  if (!asked && !ended(pid, startTime)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch (error) {
      output.err(`keepalive: cannot signal ${who('keepalive', pid)}: ${describeError(error)}\n`);
      return LSB.unknown;
    }
  }
  // keepalive ends once its child is gone and its last on-exit hooks have run.
  const timeoutMs =
    (record?.killTimeoutMs ?? DEFAULTS.killTimeout) +
    (Number.isFinite(record?.hookWaitMs) ? (record?.hookWaitMs as number) : 0) +
    MARGIN_MS;
  const gone = await waitUntil(() => ended(pid, startTime), timeoutMs, POLL_MS);
  if (!gone) {
    const after = asked ? `it took up ${paths.stop}` : 'SIGTERM';
    output.err(
      `keepalive: ${who('keepalive', pid)} is still running ${Math.round(timeoutMs / 1000)}s ` +
        `after ${after}\n`,
    );
    return 1;
  }
  const children = (record ? recordProcesses(record) : []).flatMap((entry) =>
    entry.child ? [who(stripControl(entry.name), entry.child.pid)] : [],
  );
  const child = children.length > 0 ? ` and ${children.join(', ')}` : '';
  output.err(`keepalive: stopped ${who('keepalive', pid)}${child}\n`);
  return 0;
}

/** How long a request file may wait to be taken up before `stop` falls back to SIGTERM. */
const REQUEST_WAIT_MS = 2_000;

/** Writes FILE.stop for this supervisor; true once it is stopping (or gone). */
async function askToStop(
  paths: InstancePaths,
  pid: number,
  startTime: number | undefined,
): Promise<boolean> {
  try {
    writeAtomically(paths.stop, `${pid}\n`, PRIVATE_MODE);
  } catch {
    return false;
  }
  const served = await waitUntil(
    () => {
      const now = viewInstance(paths).verdict;
      return ended(pid, startTime) || (now.kind === 'running' && now.record?.phase === 'stopping');
    },
    REQUEST_WAIT_MS,
    POLL_MS,
  );
  if (!served) removeIfOurs(paths.stop, (stats) => stats.isFile()); // not to be served by surprise later
  return served;
}

/**
 * No supervisor, but perhaps its child: stop what it left, remove its files, and say it was not
 * running.
 */
async function stopStale(paths: InstancePaths, output: ControlOutput): Promise<number | 'busy'> {
  let lock;
  try {
    lock = tryLock(paths.lock);
  } catch (error) {
    output.err(
      `keepalive: cannot clean up ${paths.pidfile}: ` +
        `${error instanceof InstanceError ? error.message : describeError(error)}\n`,
    );
    return LSB.unknown;
  }
  if (!lock) return 'busy';
  try {
    // Judged again under the lock: only now can nothing take FILE over meanwhile.
    const { verdict } = viewInstance(paths);
    if (verdict.kind !== 'stale') return 'busy';
    const { record } = verdict;
    const name = stripControl(record?.name ?? 'child');
    const found = record ? findLeftovers(record) : { proven: [], unproven: [] };
    for (const unproven of found.unproven) {
      const named = recordedName(record as InstanceRecord, unproven.pid, name);
      output.err(
        `keepalive: ${who(named, unproven.pid)}, named in ${paths.state}, does not carry ` +
          `KEEPALIVE_PID of the keepalive that started it: not proven to be keepalive's, left ` +
          `alone\n`,
      );
    }
    const stopped = leftoverNames(name, found.proven, record);
    if (record && found.proven.length > 0) {
      const gone = await stopLeftovers(record, {
        signal: record.stopSignal,
        killTimeout: record.killTimeoutMs,
        onEscalate: () => {},
      });
      if (!gone) {
        output.err(
          `keepalive: cannot stop ${stopped}, left running by a keepalive that was killed\n`,
        );
        return 1;
      }
    }
    removeStaleFiles(paths, verdict.pid, { keepRecord: false });
    const left = stopped === '' ? '' : `; stopped ${stopped}, left running by it`;
    output.err(
      `keepalive: not running: stale ${paths.pidfile} ` +
        `(${staleWords(verdict.reason, verdict.pid)})${left}; removed the stale files\n`,
    );
    return LSB.notRunning;
  } finally {
    lock.release(true);
  }
}

/** Gone, a zombie (done, only not reaped yet), or the pid now names a later process. */
function ended(pid: number, startTime: number | undefined): boolean {
  const stat = readStat(pid);
  return (
    stat === undefined || stat.state === 'Z' || stat.state === 'X' || stat.startTime !== startTime
  );
}

/** A process that runs now, its child known: what a restart waits for. */
function runsNow(entry: ProcessRecord): boolean {
  return (entry.state === 'running' || entry.state === 'starting') && entry.child !== null;
}

async function restart(
  paths: InstancePaths,
  name: string | undefined,
  output: ControlOutput,
): Promise<number> {
  const { verdict } = viewInstance(paths);
  const notNow = notRunning(verdict, paths, output);
  if (notNow !== undefined || verdict.kind !== 'running') return notNow ?? LSB.unknown;

  const { pid, record } = verdict;
  const processes = record ? recordProcesses(record) : [];
  if (!knownName(name, record, paths, output)) return UNKNOWN_NAME;
  // Those whose new child it waits for: the one named, else every one that runs (or all).
  const named = processes.filter((entry) => entry.name === name);
  const running = processes.filter(runsNow);
  const targets = name !== undefined ? named : running.length > 0 ? running : processes;
  const before = new Map(targets.map((entry) => [entry.name, entry.child?.pid]));
  try {
    writeAtomically(
      paths.restart,
      `${pid}\n${name === undefined ? '' : `${name}\n`}`,
      PRIVATE_MODE,
    );
  } catch (error) {
    output.err(
      `keepalive: cannot ask ${who('keepalive', pid)} to restart: ${describeError(error)}\n`,
    );
    return LSB.unknown;
  }
  const timeoutMs = (record?.killTimeoutMs ?? DEFAULTS.killTimeout) + MARGIN_MS;
  let now: Verdict = verdict;
  // A single command's child runs only in the phases that say so (not while it stops).
  const renewed = (view: Verdict): ProcessRecord[] => {
    if (view.kind !== 'running' || !view.record) return [];
    const { record: latest } = view;
    if (!latest.processes && !childRuns(latest.phase)) return [];
    return recordProcesses(latest).filter(
      (entry) =>
        before.has(entry.name) && runsNow(entry) && entry.child?.pid !== before.get(entry.name),
    );
  };
  const restarted = await waitUntil(
    () => {
      now = viewInstance(paths).verdict;
      if (now.kind !== 'running' || now.pid !== pid) return true;
      return before.size > 0 && renewed(now).length === before.size;
    },
    timeoutMs,
    POLL_MS,
  );
  const after: Verdict = now;
  if (after.kind !== 'running' || after.pid !== pid) {
    output.err(`keepalive: ${who('keepalive', pid)} ended before its child was restarted\n`);
    return 1;
  }
  const done = renewed(after);
  if (!restarted || done.length === 0 || done.length < before.size) {
    removeIfOurs(paths.restart, (stats) => stats.isFile()); // not to be served by surprise later
    output.err(
      `keepalive: no new child of ${who('keepalive', pid)} within ` +
        `${Math.round(timeoutMs / 1000)}s\n`,
    );
    return 1;
  }
  const words = done.map((entry) => {
    const shown = stripControl(entry.name);
    const was = before.get(entry.name);
    return `${who(shown, entry.child?.pid)}${was === undefined ? '' : ` (was ${who(shown, was)})`}`;
  });
  output.err(`keepalive: restarted: ${words.join(', ')}\n`);
  return 0;
}

/** No NAME, or the name of one of its processes; else says which there are. */
function knownName(
  name: string | undefined,
  record: InstanceRecord | undefined,
  paths: InstancePaths,
  output: ControlOutput,
): boolean {
  const processes = record ? recordProcesses(record) : [];
  if (name === undefined || !record || processes.some((entry) => entry.name === name)) return true;
  const names = processes.map((entry) => stripControl(entry.name));
  output.err(
    `keepalive: no process "${stripControl(name)}" in ${paths.pidfile}; its processes: ` +
      `${names.join(', ')}\n`,
  );
  return false;
}

/**
 * How long `rotate` waits for its request to be served: a rename or two, after the write under
 * way (a full disk with --output-lossless holds it longer: then it says so).
 */
const ROTATE_WAIT_MS = 10_000;

async function rotate(
  paths: InstancePaths,
  name: string | undefined,
  output: ControlOutput,
): Promise<number> {
  const { verdict } = viewInstance(paths);
  const notNow = notRunning(verdict, paths, output);
  if (notNow !== undefined || verdict.kind !== 'running') return notNow ?? LSB.unknown;
  const { pid, record } = verdict;
  if (!knownName(name, record, paths, output)) return UNKNOWN_NAME;
  // Given back in FILE.state once served: this request's rotation, not an earlier one.
  const id = randomBytes(8).toString('hex');
  try {
    writeAtomically(paths.rotate, `${pid}\n${name ?? ''}\nid=${id}\n`, PRIVATE_MODE);
  } catch (error) {
    output.err(
      `keepalive: cannot ask ${who('keepalive', pid)} to rotate: ${describeError(error)}\n`,
    );
    return LSB.unknown;
  }
  let now: Verdict = verdict;
  const served = await waitUntil(
    () => {
      now = viewInstance(paths).verdict;
      return now.kind !== 'running' || now.pid !== pid || now.record?.rotation?.id === id;
    },
    ROTATE_WAIT_MS,
    POLL_MS,
  );
  const after: Verdict = now;
  const rotation = after.kind === 'running' ? after.record?.rotation : undefined;
  if (!served || rotation?.id !== id) {
    removeIfOurs(paths.rotate, (stats) => stats.isFile()); // not to be served by surprise later
    output.err(
      after.kind !== 'running' || after.pid !== pid
        ? `keepalive: ${who('keepalive', pid)} ended before it rotated\n`
        : `keepalive: ${who('keepalive', pid)} did not rotate within ` +
            `${Math.round(ROTATE_WAIT_MS / 1000)}s\n`,
    );
    return 1;
  }
  const { files } = rotation;
  const failed = files.filter((entry) => entry.problem !== undefined);
  for (const entry of files) {
    const file = stripControl(entry.file ?? entry.name);
    if (entry.problem !== undefined)
      output.err(`keepalive: cannot rotate ${file}: ${stripControl(entry.problem)}\n`);
    else if (entry.skipped !== undefined && entry.file !== null)
      output.err(
        `keepalive: left ${file} as it is: ${stripControl(entry.name)} ` +
          `${stripControl(entry.skipped)}\n`,
      );
  }
  if (failed.length === 0 && files.every((entry) => entry.file === null)) {
    const whose = name === undefined ? who('keepalive', pid) : stripControl(name);
    output.err(
      `keepalive: nothing to rotate: ${whose} writes no output file (--output, or output: or ` +
        `output-dir: in its config file)\n`,
    );
    return 1;
  }
  const rotated = files.flatMap((entry) =>
    entry.file !== null && entry.problem === undefined && entry.skipped === undefined
      ? [stripControl(entry.file)]
      : [],
  );
  if (rotated.length > 0) output.err(`keepalive: rotated ${rotated.join(', ')}\n`);
  return failed.length > 0 ? 1 : 0;
}
