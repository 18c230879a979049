// Output to files: 1 GB of 100-byte lines from a C writer (output-files-writer.c) into
// `--output FILE --output-max-size 10MB`, beside the floor (`cat > FILE`, no rotation) and the
// peers doing the same rotation at 10,000,000 bytes: s6-log (Debian's s6), svlogd (runit) and
// multilog (daemontools). A peer that is not installed is skipped with one line. Three rounds,
// alternating.
// Every consumer keeps every rotated file (200), so each run's lines are checked: none lost, none
// torn. The writer times each write(2): the child's longest stall. keepalive's RSS is sampled
// while it runs, beside its RSS with the same options and a sleeping child. The CPU of each
// consumer (user, system) is the shell's `times` less the writer's own.
// Usage: node build/scripts/bench/output-files.js [--smoke] [--dir DIR]... [--only NAME]...
//   [--profile]
//   --dir: where the files go (default: the system's temporary directory); one table per DIR.
//   --only: these consumers only (cat, keepalive, s6-log, svlogd, multilog); the rows that need
//   the others show NaN.
//   --profile: one more keepalive run under `node --cpu-prof`, its top functions printed.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, markdown, SOURCE_DIR, stats, usage, type Row, type Stats } from './lib.js';

const LINE = 100;
const MAX_SIZE = 10_000_000;
const KEEP = 200;
const STALL_BUDGET_MS = 100;
const RSS_BUDGET = 1.2;

interface Consumer {
  name: string;
  /** The program that must be on PATH, and the Debian package that has it. */
  program?: string;
  debian?: string;
  /** The shell command that reads the writer's lines on stdin, run in the run's directory. */
  command: string;
  /** The checked files, oldest first. */
  files: (dir: string) => string[];
}

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/** Timestamped archives (@TAI64N.s) in name order, then `current`: the peers' layout. */
const archivesThenCurrent = (dir: string): string[] =>
  readdirSync(join(dir, 'log'))
    .filter((name) => name.startsWith('@'))
    .sort()
    .concat('current')
    .map((name) => join(dir, 'log', name))
    .filter((path) => existsSync(path));

const CONSUMERS: Consumer[] = [
  {
    name: 'cat > FILE',
    command: 'cat > out.log',
    files: (dir) => [join(dir, 'out.log')],
  },
  {
    name: 'keepalive --output',
    command:
      `${quote(process.execPath)} ${quote(CLI)} -q --restart never --output out.log ` +
      `--output-max-size 10MB --output-keep ${KEEP} -- "$@" 2> keepalive.err`,
    files: (dir) => {
      const rotated = readdirSync(dir)
        .map((name) => /^out\.log\.(\d+)$/.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number)
        .sort((a, b) => b - a)
        .map((n) => join(dir, `out.log.${n}`));
      return [...rotated, join(dir, 'out.log')];
    },
  },
  {
    name: 's6-log',
    program: 's6-log',
    debian: 's6',
    command: `mkdir log && s6-log n${KEEP} s${MAX_SIZE} ./log`,
    files: archivesThenCurrent,
  },
  {
    name: 'svlogd',
    program: 'svlogd',
    debian: 'runit',
    command: `mkdir log && printf 's${MAX_SIZE}\\nn${KEEP}\\n' > log/config && svlogd log`,
    files: archivesThenCurrent,
  },
  {
    name: 'multilog',
    program: 'multilog',
    debian: 'daemontools',
    command: `mkdir log && multilog n${KEEP} s${MAX_SIZE} ./log`,
    files: archivesThenCurrent,
  },
];

function onPath(program: string): boolean {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, program)));
}

function writerProgram(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'keepalive-bench-')), 'output-files-writer');
  execFileSync('cc', ['-O2', '-o', out, join(SOURCE_DIR, 'output-files-writer.c')]);
  return out;
}

interface Lines {
  good: number;
  torn: number;
  lost: number;
  firstBad?: string;
}

/** Reads the files in order: each line `NNNNNNNNNN xxx...`, numbered 0, 1, 2 ... without a gap. */
function checkLines(files: readonly string[], expected: number): Lines {
  const result: Lines = { good: 0, torn: 0, lost: 0 };
  const tail = Buffer.from(` ${'x'.repeat(LINE - 12)}`);
  const chunk = Buffer.alloc(LINE * 65_536);
  let held = Buffer.alloc(0);
  let next = 0;
  const line = (bytes: Buffer): void => {
    let number = 0;
    let digits = bytes.length === LINE - 1;
    for (let i = 0; digits && i < 10; i++) {
      const digit = (bytes[i] as number) - 48;
      digits = digit >= 0 && digit <= 9;
      number = number * 10 + digit;
    }
    if (!digits || !bytes.subarray(10).equals(tail) || number < next) {
      result.torn++;
      result.firstBad ??= bytes.subarray(0, 120).toString('latin1');
      return;
    }
    result.lost += number - next;
    next = number + 1;
    result.good++;
  };
  for (const file of files) {
    const fd = openSync(file, 'r');
    try {
      for (let read; (read = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
        const bytes = held.length > 0 ? Buffer.concat([held, chunk.subarray(0, read)]) : chunk;
        const end = held.length > 0 ? bytes.length : read;
        let start = 0;
        for (let newline; (newline = bytes.indexOf(10, start)) !== -1 && newline < end;) {
          line(bytes.subarray(start, newline));
          start = newline + 1;
        }
        held = Buffer.from(bytes.subarray(start, end));
      }
    } finally {
      closeSync(fd);
    }
  }
  if (held.length > 0) line(held);
  result.lost += expected - next;
  return result;
}

interface Figures {
  seconds: number;
  /** The writer's longest write(2), and its writes over 10 ms and over 100 ms. */
  stallMs: number;
  over10: number;
  over100: number;
  /** The consumer's CPU: the shell's children less the writer. */
  userMs: number;
  systemMs: number;
  /** keepalive only: its RSS sampled while it ran (the largest), and its peak (VmHWM). */
  rssKb?: number;
  peakRssKb?: number;
  lines: Lines;
}

/** keepalive's pid: the node process under the shell. */
function keepalivePid(shell: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim();
    return children === '' ? undefined : Number(children.split(' ')[0]);
  } catch {
    return undefined;
  }
}

async function once1(
  consumer: Consumer,
  writer: string,
  base: string,
  bytes: number,
  options: { sample: boolean; nodeFlags?: string },
): Promise<Figures> {
  const dir = mkdtempSync(join(base, 'keepalive-bench-files-'));
  try {
    const report = join(dir, 'writer.report');
    const command = consumer.command.replace(
      quote(process.execPath),
      `${quote(process.execPath)}${options.nodeFlags ? ` ${options.nodeFlags}` : ''}`,
    );
    const pipeline = consumer.name.startsWith('keepalive') ? command : `"$@" | { ${command}; }`;
    const script = `${pipeline}; status=$?; times; exit $status`;
    const shell = spawn('bash', ['-c', script, 'bash', writer, String(bytes), report], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let said = '';
    shell.stdout.on('data', (text: Buffer) => (said += text.toString()));
    let rssKb = 0;
    let peakRssKb = 0;
    const sampler = options.sample
      ? setInterval(() => {
          const pid = shell.pid === undefined ? undefined : keepalivePid(shell.pid);
          if (pid === undefined) return;
          try {
            const now = usage(pid);
            // A process that has ended (a zombie) has no memory figures: NaN.
            if (Number.isFinite(now.rssKb)) rssKb = Math.max(rssKb, now.rssKb);
            if (Number.isFinite(now.peakRssKb)) peakRssKb = Math.max(peakRssKb, now.peakRssKb);
          } catch {
            // It ended between the two readings.
          }
        }, 50)
      : undefined;
    const [code] = (await once(shell, 'exit')) as [number | null];
    const ended = process.hrtime.bigint();
    clearInterval(sampler);
    if (code !== 0) {
      const err = join(dir, 'keepalive.err');
      const why = existsSync(err) ? readFileSync(err, 'utf8').slice(-500) : '';
      throw new Error(`${consumer.name} exited with ${code} ${why}`);
    }
    const [started, longest, over10, over100, writerUser, writerSystem] = readFileSync(
      report,
      'utf8',
    )
      .trim()
      .split(' ')
      .map(Number) as [number, number, number, number, number, number];
    // `times`: the shell's own user and system, then its children's.
    const children = said.trim().split('\n').at(-1) ?? '';
    const [user, system] = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map(
      (match) => (Number(match[1]) * 60 + Number(match[2])) * 1000,
    ) as [number, number];
    return {
      seconds: Number(ended - BigInt(started)) / 1e9,
      stallMs: longest / 1e6,
      over10,
      over100,
      userMs: user - writerUser / 1000,
      systemMs: system - writerSystem / 1000,
      ...(options.sample ? { rssKb, peakRssKb } : {}),
      lines: checkLines(consumer.files(dir), Math.floor(bytes / LINE)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** keepalive with the same options and a sleeping child: its RSS after `ms`. kB. */
async function idleRss(base: string, ms: number): Promise<number> {
  const dir = mkdtempSync(join(base, 'keepalive-bench-files-'));
  const child = spawn(
    process.execPath,
    [CLI, '-q', '--output', join(dir, 'out.log'), '--output-max-size', '10MB', '--', 'sleep', '60'],
    { stdio: 'ignore' },
  );
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return usage(child.pid as number).rssKb;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One more keepalive run under --cpu-prof: its functions by self time, the top 15. */
async function profile(writer: string, base: string, bytes: number): Promise<string> {
  const profiles = mkdtempSync(join(tmpdir(), 'keepalive-bench-prof-'));
  try {
    const keepalive = CONSUMERS[1] as Consumer;
    await once1(keepalive, writer, base, bytes, {
      sample: false,
      nodeFlags: `--cpu-prof --cpu-prof-dir ${quote(profiles)}`,
    });
    const file = readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'));
    if (!file) return 'no profile written';
    const prof = JSON.parse(readFileSync(join(profiles, file), 'utf8')) as {
      nodes: Array<{
        id: number;
        callFrame: { functionName: string; url: string; lineNumber: number };
      }>;
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(prof.nodes.map((node) => [node.id, node]));
    const self = new Map<string, number>();
    let total = 0;
    prof.samples.forEach((id, index) => {
      const frame = byId.get(id)?.callFrame;
      const where = frame?.url.replace(/^.*\/(build|node_modules)\//, '') ?? '';
      const name = frame?.functionName || '(anonymous)';
      const key = `${name} ${where}:${(frame?.lineNumber ?? 0) + 1}`;
      const delta = prof.timeDeltas[index] ?? 0;
      self.set(key, (self.get(key) ?? 0) + delta);
      total += delta;
    });
    return [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(
        ([key, us]) => `  ${((100 * us) / total).toFixed(1)}% ${(us / 1000).toFixed(0)} ms ${key}`,
      )
      .join('\n');
  } finally {
    rmSync(profiles, { recursive: true, force: true });
  }
}

const mbps = (bytes: number, seconds: number): number => bytes / 1e6 / seconds;

export async function run({
  smoke,
  dir = tmpdir(),
}: {
  smoke: boolean;
  dir?: string;
}): Promise<Row[]> {
  const bytes = smoke ? 25e6 : 1e9;
  const writer = writerProgram();
  mkdirSync(dir, { recursive: true });
  const only = process.argv.flatMap((arg, index) =>
    process.argv[index - 1] === '--only' ? [arg] : [],
  );
  const present = CONSUMERS.filter((consumer) => {
    if (only.length > 0 && !only.includes(consumer.name.split(' ')[0] as string)) return false;
    if (!consumer.program || onPath(consumer.program)) return true;
    process.stderr.write(
      `output files: ${consumer.program} is not installed (Debian package ${consumer.debian}), ` +
        'skipped\n',
    );
    return false;
  });
  const figures = new Map<string, Figures[]>(present.map((consumer) => [consumer.name, []]));
  const idle: number[] = [];
  // Alternated, three rounds: the machine's other load falls on all alike (smoke: one).
  for (let round = 0; round < (smoke ? 1 : 3); round++) {
    for (const consumer of present) {
      const sample = consumer.name.startsWith('keepalive');
      figures.get(consumer.name)?.push(await once1(consumer, writer, dir, bytes, { sample }));
    }
    idle.push(await idleRss(dir, smoke ? 1000 : 3000));
  }
  const of = (name: string): Figures[] => figures.get(name) ?? [];
  const speed = (name: string): Stats => stats(of(name).map((one) => mbps(bytes, one.seconds)));
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  for (const consumer of present) {
    const runs = of(consumer.name);
    process.stderr.write(
      `output files (${dir}): ${consumer.name}: ` +
        `${runs.map((one) => mbps(bytes, one.seconds).toFixed(0)).join(' ')} MB/s; CPU user ` +
        `${median(runs.map((one) => one.userMs)).toFixed(0)} ms, system ` +
        `${median(runs.map((one) => one.systemMs)).toFixed(0)} ms (medians); longest write ` +
        `${runs.map((one) => one.stallMs.toFixed(1)).join(' ')} ms, writes over 10 ms ` +
        `${runs.map((one) => one.over10).join(' ')}; lines lost ` +
        `${runs.map((one) => one.lines.lost).join(' ')}, torn ` +
        `${runs.map((one) => one.lines.torn).join(' ')}\n`,
    );
  }
  const ours = of('keepalive --output');
  const measure = `${bytes / 1e6} MB of ${LINE}-byte lines into files, rotated at 10 MB`;
  const rows: Row[] = [
    {
      part: 'output files',
      measure: `${measure} (${dir})`,
      unit: 'MB/s',
      keepalive: speed('keepalive --output'),
      floor: speed('cat > FILE'),
      floorName: '(`cat > FILE`, no rotation)',
    },
  ];
  const peers = present.filter((consumer) => consumer.program);
  const fastest = peers
    .map((consumer) => consumer.name)
    .sort((a, b) => speed(b).median - speed(a).median)[0];
  for (const peer of peers) {
    const ratio = speed('keepalive --output').median / speed(peer.name).median;
    rows.push({
      part: 'output files',
      measure: `the same beside ${peer.name}`,
      unit: 'MB/s',
      keepalive: speed('keepalive --output'),
      floor: speed(peer.name),
      floorName: `(${peer.name})`,
      ...(peer.name === fastest
        ? { budget: `>= the fastest peer (${ratio.toFixed(2)}x)`, withinBudget: ratio >= 1 }
        : {}),
    });
  }
  const stall = stats(ours.map((one) => one.stallMs));
  const peakRss = stats(ours.map((one) => (one.peakRssKb ?? 0) / 1024));
  const idleStats = stats(idle.map((kb) => kb / 1024));
  const cpu = (name: string): Stats => stats(of(name).map((one) => one.userMs + one.systemMs));
  const bad = ours.reduce((sum, one) => sum + one.lines.lost + one.lines.torn, 0);
  const firstBad = ours.find((one) => one.lines.firstBad)?.lines.firstBad;
  rows.push(
    {
      part: 'output files',
      measure: "the child's longest write(2), never-block (the default)",
      unit: 'ms',
      keepalive: stall,
      floor: stats(of('cat > FILE').map((one) => one.stallMs)),
      floorName: '(into `cat > FILE`)',
      budget: `< ${STALL_BUDGET_MS} ms`,
      withinBudget: stall.max < STALL_BUDGET_MS,
    },
    {
      part: 'output files',
      measure: "keepalive's peak RSS while it writes (floor column: idle, a sleeping child)",
      unit: 'MB',
      keepalive: peakRss,
      floor: idleStats,
      budget: `<= ${RSS_BUDGET}x idle`,
      withinBudget: peakRss.median <= RSS_BUDGET * idleStats.median,
    },
    {
      part: 'output files',
      measure: "the consumer's CPU time, user + system (floor column: `cat > FILE`)",
      unit: 'ms',
      keepalive: cpu('keepalive --output'),
      floor: cpu('cat > FILE'),
      floorName: '(cat)',
    },
    {
      part: 'output files',
      measure: 'lines lost or torn, every run checked',
      unit: 'lines',
      keepalive: stats([bad]),
      budget: bad === 0 ? 'none' : `none: ${firstBad ?? 'lines lost'}`,
      withinBudget: bad === 0,
    },
  );
  if (!smoke && process.argv.includes('--profile'))
    process.stderr.write(
      `output files: keepalive under --cpu-prof, self time:\n` +
        `${await profile(writer, dir, bytes).catch((error: Error) => error.message)}\n`,
    );
  rmSync(join(writer, '..'), { recursive: true, force: true });
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dirs = args.flatMap((arg, index) => (args[index - 1] === '--dir' ? [arg] : []));
  const rows: Row[] = [];
  for (const dir of dirs.length > 0 ? dirs : [tmpdir()])
    rows.push(...(await run({ smoke: args.includes('--smoke'), dir })));
  process.stdout.write(`${markdown(rows)}\n`);
}
