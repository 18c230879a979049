// Health checks for children that cannot beat: an HTTP GET or a shell command, every interval.
// Loaded with import() only when a health check is configured, so keepalive stays small without.
import http from 'node:http';
import https from 'node:https';
import { formatDuration } from '../core/duration.js';
import { classify, describeOutcome } from '../core/exit.js';
import {
  NEW_HEALTH,
  recordProbe,
  type HealthCheck,
  type HealthState,
  type HealthVerdict,
} from '../core/health.js';
import { held, newLeaf } from '../tree/cgroups.js';
import { LeaderGroup } from '../tree/process-group.js';
import { spawnProcess } from '../spawn/spawn.js';
import type { Account } from '../spawn/account.js';
import { helperEnv, killHelperLeftovers } from '../tree/tree.js';

export interface ProbeResult {
  passed: boolean;
  /** "HTTP 503", "exited with code 1", "ECONNREFUSED", "no answer within 2s" */
  detail: string;
}

export interface ProbeReport extends ProbeResult {
  verdict: HealthVerdict;
  failures: number;
}

export interface Probes {
  close(): void;
}

/**
 * Probes `interval` after the start, then `interval` after each probe ends, until unhealthy or
 * closed.
 */
export function startProbes(options: {
  check: HealthCheck;
  env: NodeJS.ProcessEnv;
  cwd: string | undefined;
  /** The child's user: a health command runs as what it checks (--user, --group). */
  account?: Account | undefined;
  now: () => number;
  report: (report: ProbeReport) => void;
}): Probes {
  const { check, now } = options;
  const startedAt = now();
  const abort = new AbortController();
  let state: HealthState = NEW_HEALTH;
  let timer: NodeJS.Timeout | undefined;

  const probeOnce = async (): Promise<void> => {
    const result = await probe(check, abort.signal, options.env, options.cwd, options.account);
    if (abort.signal.aborted) return;
    const recorded = recordProbe(check, state, result.passed, now() - startedAt);
    state = recorded.state;
    if (recorded.verdict !== 'unhealthy')
      timer = setTimeout(() => void probeOnce(), check.intervalMs);
    options.report({ ...result, verdict: recorded.verdict, failures: state.failures });
  };
  timer = setTimeout(() => void probeOnce(), check.intervalMs);

  return {
    close() {
      clearTimeout(timer);
      abort.abort();
    },
  };
}

export function probe(
  check: HealthCheck,
  cancel: AbortSignal,
  env: NodeJS.ProcessEnv,
  cwd: string | undefined,
  account: Account | undefined,
): Promise<ProbeResult> {
  return check.probe.kind === 'url'
    ? probeUrl(check.probe.url, check.timeoutMs, cancel)
    : probeCommand(check.probe.command, check.timeoutMs, cancel, env, cwd, account);
}

/**
 * GET, healthy on 2xx. A fresh connection each time (no agent): the probe is of the server, not a
 * pool.
 */
function probeUrl(url: string, timeoutMs: number, cancel: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const client = url.startsWith('https:') ? https : http;
    const request = client.get(
      url,
      {
        agent: false,
        signal: AbortSignal.any([cancel, timeout]),
        headers: { 'user-agent': 'keepalive-health-check' },
      },
      (response) => {
        // The status is the answer; the body is not needed (and may never end).
        const status = response.statusCode ?? 0;
        response.destroy();
        resolve({ passed: status >= 200 && status <= 299, detail: `HTTP ${status}` });
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      resolve({
        passed: false,
        detail: timeout.aborted ? noAnswer(timeoutMs) : (error.code ?? error.message),
      });
    });
  });
}

/**
 * `sh -c CMD` through the spawn gateway, in its own process group (and cgroup, where keepalive has
 * them); healthy on exit code 0. The whole group ends with the probe: SIGKILL once sh has exited,
 * on the timeout, or when the probes close.
 */
async function probeCommand(
  command: string,
  timeoutMs: number,
  cancel: AbortSignal,
  env: NodeJS.ProcessEnv,
  cwd: string | undefined,
  account: Account | undefined,
): Promise<ProbeResult> {
  const made = newLeaf('probe');
  const spawned = await spawnProcess({
    command: 'sh',
    args: ['-c', command],
    cwd,
    env: helperEnv(env),
    account,
    stdio: 'ignore',
    ownGroup: true,
    started: (pid) => made?.adopt(pid),
  });
  const leaf = held(made);
  if (!spawned.started) {
    leaf?.retire();
    return { passed: false, detail: `sh could not be started (${spawned.message})` };
  }
  let timedOut = false;
  const group = new LeaderGroup(spawned.pid, spawned.ended);
  const kill = (): void => {
    group.signal('SIGKILL'); // also after the probe's shell is reaped: what it left in its group
    if (leaf) leaf.kill();
    else killHelperLeftovers();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  // Closed while sh was being started: the abort has already fired.
  if (cancel.aborted) kill();
  else cancel.addEventListener('abort', kill, { once: true });
  const facts = await spawned.ended;
  clearTimeout(timer);
  cancel.removeEventListener('abort', kill);
  // The answer is in: whatever the probe left in its group (`sleep 777 &`) ends with it.
  kill();
  leaf?.retire();
  if (timedOut) return { passed: false, detail: noAnswer(timeoutMs) };
  const outcome = classify(facts);
  return {
    passed: outcome.kind === 'exited' && outcome.code === 0,
    detail: describeOutcome(outcome),
  };
}

function noAnswer(timeoutMs: number): string {
  return `no answer within ${formatDuration(timeoutMs)}`;
}
