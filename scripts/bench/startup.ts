// Start-up: from launching keepalive to its child's first instruction, against `node -e` spawning
// the same child directly. Three ways to launch it, each beside the same floor, run in turn
// (floor, build, bundle, executable, floor, ...) so that the machine's drift hits them alike:
// the plain build (build/src/cli.js, what the tests drive), the package's bin (build/src/bin.cjs
// from src/bin.cts, which requires the one-file bundle in dist/ from npm run build, with Node's
// compile cache where Node has one and the user is not root) and the single executable
// (npm run build:binary), built here first.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nowNs, nsToMs, readStamps, stampProgram, stats, tempFile, CLI, type Row } from './lib.js';

const SCRIPTS = fileURLToPath(new URL('../../../scripts/', import.meta.url));

async function launchToStamp(command: (file: string) => string[]): Promise<number> {
  const file = tempFile('stamps');
  const [program, ...args] = command(file) as [string, ...string[]];
  const started = nowNs();
  const child = spawn(program, args, { stdio: 'ignore' });
  await once(child, 'exit');
  const [stamp] = readStamps(file);
  if (stamp === undefined) throw new Error(`the child never started under ${program}`);
  return nsToMs(stamp - started);
}

interface Builds {
  bin: string;
  binary: string;
  remove(): void;
}

async function builds(): Promise<Builds> {
  const bin = join(SCRIPTS, '..', 'build', 'src', 'bin.cjs');
  if (!existsSync(join(SCRIPTS, '..', 'dist', 'keepalive.cjs'))) {
    throw new Error('dist/keepalive.cjs is missing: run npm run build first');
  }
  const dir = mkdtempSync(join(SCRIPTS, '..', 'dist-work-bench-'));
  const { buildBinary } = (await import(pathToFileURL(join(SCRIPTS, 'build-binary.mjs')).href)) as {
    buildBinary(outfile: string): Promise<unknown>;
  };
  const built = {
    bin,
    binary: join(dir, 'keepalive'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  await buildBinary(built.binary);
  return built;
}

export async function run({ smoke }: { smoke: boolean }): Promise<Row[]> {
  const runs = smoke ? 3 : 30;
  const built = await builds();
  const direct =
    "require('node:child_process').spawn(process.argv[1], [process.argv[2]], { stdio: 'inherit' })";
  const floor = (file: string): string[] => [process.execPath, '-e', direct, stampProgram(), file];
  const child = (file: string): string[] => [
    '-q',
    '--restart',
    'never',
    '--',
    stampProgram(),
    file,
  ];
  const ways: ReadonlyArray<readonly [string, (file: string) => string[]]> = [
    ['plain build (build/src/cli.js)', (file) => [process.execPath, CLI, ...child(file)]],
    [
      'bin: the bundle (build/src/bin.cjs)',
      (file) => [process.execPath, built.bin, ...child(file)],
    ],
    ['single executable (npm run build:binary)', (file) => [built.binary, ...child(file)]],
  ];
  const floors: number[] = [];
  const ours: number[][] = ways.map(() => []);
  try {
    for (let i = 0; i < runs; i++) {
      floors.push(await launchToStamp(floor));
      for (const [index, [, command]] of ways.entries())
        ours[index]?.push(await launchToStamp(command));
    }
  } finally {
    built.remove();
  }
  const bare = stats(floors);
  return ways.map(([name], index) => {
    const keepalive = stats(ours[index] ?? []);
    return {
      part: 'start-up',
      measure: `launch → child started, ${name}, ${runs} runs`,
      unit: 'ms',
      keepalive,
      floor: bare,
      floorName: '`node -e` spawning it',
      budget: '≤ 1.35× floor',
      withinBudget: keepalive.median <= 1.35 * bare.median,
    };
  });
}
