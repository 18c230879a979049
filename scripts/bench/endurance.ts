// Crash-loop endurance: many zero-delay restarts; keepalive's memory and open files must stay flat.
// Through the API in a worker that collects garbage before each sample, and through the command
// line (its log lines, its notify socket) as users run it, sampled from /proc as it goes.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startKeepalive, stats, usage, type Row } from './lib.js';

/** The command line's RSS (MB) at its `earlyAt`th and `restarts`th exit line. */
async function commandLine(
  restarts: number,
  earlyAt: number,
): Promise<{ early: number; end: number }> {
  const keepalive = startKeepalive(['--delay', '0', '--', 'true'], 'pipe');
  const rss = (): number => usage(keepalive.pid as number).rssKb / 1024;
  return new Promise((resolve, reject) => {
    let exits = 0;
    let early = 0;
    let rest = '';
    keepalive.once('exit', (code) =>
      reject(new Error(`keepalive ended (${code}) after ${exits} exits`)),
    );
    keepalive.stderr?.setEncoding('utf8').on('data', (text: string) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!/ exited with code 0/.test(line)) continue;
        exits++;
        if (exits === earlyAt) early = rss();
        if (exits !== restarts) continue;
        const end = rss();
        keepalive.removeAllListeners('exit');
        keepalive.kill('SIGKILL');
        resolve({ early, end });
      }
    });
  });
}

interface Sample {
  rssMb: number;
  heapMb: number;
  youngMb: number;
  fds: number;
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const restarts = smoke ? 300 : 10_000;
  const earlyAt = Math.min(500, Math.floor(restarts / 2));
  const worker = fileURLToPath(new URL('./endurance-worker.js', import.meta.url));
  const output = execFileSync(process.execPath, ['--expose-gc', worker, String(restarts)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const { early, end } = JSON.parse(output) as { early: Sample; end: Sample };
  const cli = await commandLine(restarts, earlyAt);
  const single = (value: number) => stats([value]);
  return [
    {
      part: 'endurance',
      measure: `RSS after ${restarts} restarts (floor column: after ${earlyAt})`,
      unit: 'MB',
      keepalive: single(end.rssMb),
      floor: single(early.rssMb),
      floorName: '',
      budget: `growth ≤ 10 MB from restart ${earlyAt}`,
      withinBudget: end.rssMb - early.rssMb <= 10,
    },
    {
      part: 'endurance',
      measure: `heap used after ${restarts} restarts (floor column: after ${earlyAt})`,
      unit: 'MB',
      keepalive: single(end.heapMb),
      floor: single(early.heapMb),
      floorName: '',
    },
    {
      part: 'endurance',
      measure: `V8's young generation (new space) after ${restarts} restarts (floor column: after ${earlyAt})`,
      unit: 'MB',
      keepalive: single(end.youngMb),
      floor: single(early.youngMb),
      floorName: '',
    },
    {
      part: 'endurance',
      measure: `open fds after ${restarts} restarts (floor column: after ${earlyAt})`,
      unit: 'fds',
      keepalive: single(end.fds),
      floor: single(early.fds),
      floorName: '',
      budget: 'unchanged',
      withinBudget: end.fds === early.fds,
    },
    {
      part: 'endurance',
      measure: `RSS of the command line (keepalive --delay 0 -- true) at its ${restarts}th exit, no forced GC (floor column: at its ${earlyAt}th)`,
      unit: 'MB',
      keepalive: single(cli.end),
      floor: single(cli.early),
      floorName: '',
    },
  ];
}
