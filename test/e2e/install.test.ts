// keepalive as its users get it: a fresh clone of this repository's HEAD installed as a directory
// and as a git URL, then packed, and the tarball installed into scratch projects (CommonJS, ESM,
// TypeScript in three configurations) and globally. Packages come from npm's cache
// (--prefer-offline): CI's `npm ci` has just filled it. Nothing here touches this checkout's own
// build/.
import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const { name: NAME, version: VERSION } = JSON.parse(
  readFileSync(join(ROOT, 'package.json'), 'utf8'),
) as { name: string; version: string };
const NPM = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

const work = mkdtempSync(join(tmpdir(), 'keepalive-install-'));
const clone = join(work, 'clone');
test.after.always(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end as a user's shell would: without the npm settings of the `npm test`
 * around us, and without its node_modules/.bin (this checkout's tsc) on PATH.
 */
function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
  );
  env['PATH'] = (env['PATH'] ?? '')
    .split(':')
    .filter((dir) => !dir.endsWith('node_modules/.bin'))
    .join(':');
  return new Promise((done) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function ok(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0)
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.code}\n${result.stderr}${result.stdout}`,
    );
  return result.stdout;
}

function project(dir: string, packageJson: object, files: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Each step once, whichever test needs it first. */
function once<T>(step: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= step());
}

const cloned = once(() => ok('git', ['clone', '--quiet', ROOT, clone], work));

/**
 * `npm install <directory>`: npm links the clone, whose prepare installs its build tools and
 * builds.
 */
const directoryInstalled = once(async () => {
  await cloned();
  const app = project(join(work, 'from-directory'), {
    name: 'from-directory',
    version: '1.0.0',
    private: true,
  });
  await ok('npm', ['install', ...NPM, clone], app);
  return app;
});

const tarball = once(async () => {
  await directoryInstalled(); // the clone now has its devDependencies
  const [packed] = JSON.parse(
    await ok('npm', ['pack', '--json', '--pack-destination', work, ...NPM], clone),
  ) as [{ filename: string; files: { path: string }[] }];
  const extracted = join(work, 'extracted');
  mkdirSync(extracted);
  await ok('tar', ['-xzf', join(work, packed.filename), '-C', extracted], work);
  return {
    file: join(work, packed.filename),
    paths: packed.files.map((file) => file.path),
    root: join(extracted, 'package'),
  };
});

/** A project that installs the tarball, without install scripts: koffi's is not needed. */
const consumers = once(async () => {
  const { file } = await tarball();
  const dir = project(join(work, 'consumers'), {
    name: 'consumers',
    version: '1.0.0',
    private: true,
  });
  await ok('npm', ['install', ...NPM, '--ignore-scripts', file], dir);
  return dir;
});

/** A child that exits 3 under supervise(), with the reaper on (koffi and libc for real). */
const SUPERVISE_BODY = `
const supervisor = supervise({ command: process.execPath, args: ['-e', 'process.exit(3)'], restart: 'never', subreaper: true });
supervisor.done.then((result) => console.log(JSON.stringify({ status: result.status, kind: result.outcome.kind, supervised: client.supervised() })));
`;
const EXPECTED = { status: 3, kind: 'exited', supervised: false };

async function keepaliveCommand(
  t: {
    is: (a: unknown, b: unknown, message?: string) => void;
    regex: (a: string, b: RegExp) => void;
  },
  bin: string,
): Promise<void> {
  t.is((await ok(bin, ['--version'], work)).trim(), VERSION);
  const result = await run(
    bin,
    ['--restart', 'never', '--', process.execPath, '-e', 'process.exit(3)'],
    work,
  );
  t.is(result.code, 3);
  t.regex(result.stderr, /exited with code 3; not restarting/);
  // status reads its words with yargs, which the bundle keeps in a file of its own.
  const status = await run(bin, ['status', '--pidfile', join(work, 'none.pid')], work);
  t.is(status.code, 3, status.stderr);
  t.regex(status.stdout, /^not running: no /);
}

test.serial(
  'npm install <a fresh clone> builds it there and gives a working keepalive, TypeScript not installed by the user',
  async (t) => {
    t.timeout(120_000);
    const app = await directoryInstalled();
    await keepaliveCommand(t, join(app, 'node_modules', '.bin', 'keepalive'));
    t.false(
      existsSync(join(app, 'node_modules', 'typescript')),
      'the user project gets no TypeScript',
    );
    t.regex(
      await ok(process.execPath, ['-e', `console.log(typeof require('${NAME}').supervise)`], app),
      /function/,
    );
  },
);

test.serial('npm install git+file://<clone> gives a working keepalive', async (t) => {
  t.timeout(120_000);
  await cloned();
  const app = project(join(work, 'from-git'), {
    name: 'from-git',
    version: '1.0.0',
    private: true,
  });
  await ok('npm', ['install', ...NPM, `git+file://${clone}`], app);
  await keepaliveCommand(t, join(app, 'node_modules', '.bin', 'keepalive'));
  t.false(existsSync(join(app, 'node_modules', 'typescript')));
});

test.serial(
  'the tarball has the license, docs and types, and source maps that point at files it ships',
  async (t) => {
    t.timeout(120_000);
    const { paths, root } = await tarball();
    for (const wanted of [
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'package.json',
      'build/src/bin.cjs',
      'dist/keepalive.cjs',
      'dist/keepalive-yargs.cjs',
      'dist/keepalive-yaml.cjs',
      'keepalive.schema.json',
      'build/src/cli.js',
      'build/src/index.d.ts',
      'build/src/client.d.ts',
      'src/index.ts',
    ]) {
      t.true(paths.includes(wanted), wanted);
    }
    t.deepEqual(paths.filter((path) => !/^(?:build\/src|src|docs)\//.test(path)).sort(), [
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'dist/keepalive-yaml.cjs',
      'dist/keepalive-yargs.cjs',
      'dist/keepalive.cjs',
      'keepalive.schema.json',
      'package.json',
    ]);
    // The README links to docs/: every page it names is in the package.
    for (const page of readFileSync(join(root, 'README.md'), 'utf8').matchAll(
      /\]\((docs\/[^)#]+)/g,
    ))
      t.true(paths.includes(page[1] as string), `${page[1]} is in the package`);
    t.true(
      paths.every(
        (path) => !path.endsWith('.ts') || path.endsWith('.d.ts') || path.startsWith('src/'),
      ),
    );
    const maps = paths.filter((path) => path.endsWith('.map'));
    t.true(maps.length > 40);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources)
        t.true(existsSync(resolve(dirname(join(root, map)), source)), `${map} -> ${source}`);
    }
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      name: string;
      bin: Record<string, string>;
    };
    t.is(manifest.name, 'keepalive-supervisor'); // not 'keepalive': the registry's is another project
    t.deepEqual(manifest.bin, { keepalive: 'build/src/bin.cjs' });
  },
);

test.serial(
  'CommonJS and ESM consumers require and import the package and its client, and supervise a child',
  async (t) => {
    t.timeout(120_000);
    const dir = await consumers();
    const cjs = project(
      join(dir, 'cjs'),
      { type: 'commonjs' },
      {
        'index.js': `const { supervise } = require('${NAME}');\nconst client = require('${NAME}/client');\n${SUPERVISE_BODY}`,
      },
    );
    const esm = project(
      join(dir, 'esm'),
      { type: 'module' },
      {
        'index.js': `import { supervise } from '${NAME}';\nimport * as client from '${NAME}/client';\n${SUPERVISE_BODY}`,
      },
    );
    for (const consumer of [cjs, esm]) {
      const result = await run(process.execPath, ['index.js'], consumer);
      t.is(result.code, 0, result.stderr);
      t.deepEqual(JSON.parse(result.stdout), EXPECTED);
      t.notRegex(result.stderr, /Warning/);
    }
  },
);

const TS_SOURCE = `import { supervise, describeOutcome, type Outcome, type SuperviseOptions } from '${NAME}';
import * as client from '${NAME}/client';

const options: SuperviseOptions = { command: process.execPath, args: ['-e', 'process.exit(3)'], restart: 'never', subreaper: true };
// @ts-expect-error: the types are real, not any: a command is a string
const wrong: SuperviseOptions = { command: 3 };
void wrong;
const supervisor = supervise(options);
supervisor.done.then((result) => {
  const outcome: Outcome = result.outcome;
  const words: string = describeOutcome(outcome);
  void words;
  const beat: () => void = client.beat;
  void beat;
  console.log(JSON.stringify({ status: result.status, kind: outcome.kind, supervised: client.supervised() }));
});
`;

test.serial(
  'TypeScript consumers type-check: nodenext in a CommonJS and an ESM package, and bundler resolution',
  async (t) => {
    t.timeout(120_000);
    const dir = await consumers();
    const compilerOptions = {
      strict: true,
      skipLibCheck: true,
      target: 'ES2022',
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      outDir: 'out',
    };
    // One of them also checks every declaration file (ours, and the dependencies' they name): slow,
    // so once.
    const variants = [
      {
        name: 'ts-cjs',
        type: 'commonjs',
        options: { module: 'nodenext', moduleResolution: 'nodenext' },
        runs: true,
      },
      {
        name: 'ts-esm',
        type: 'module',
        options: { module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: false },
        runs: true,
      },
      {
        name: 'ts-bundler',
        type: 'module',
        options: { module: 'preserve', moduleResolution: 'bundler', noEmit: true },
        runs: false,
      },
    ];
    // One at a time: three compilers at once on two cores take longer than in a row.
    for (const variant of variants) {
      const consumer = project(
        join(dir, variant.name),
        { type: variant.type },
        {
          'index.ts': TS_SOURCE,
          'tsconfig.json': JSON.stringify({
            compilerOptions: { ...compilerOptions, ...variant.options },
            files: ['index.ts'],
          }),
        },
      );
      const compiled = await run(process.execPath, [TSC, '-p', '.'], consumer);
      t.is(compiled.code, 0, `${variant.name}: ${compiled.stdout}`);
      if (!variant.runs) continue;
      const result = await run(process.execPath, [join('out', 'index.js')], consumer);
      t.is(result.code, 0, `${variant.name}: ${result.stderr}`);
      t.deepEqual(JSON.parse(result.stdout), EXPECTED, variant.name);
    }
  },
);

test.serial(
  'no module of the installed package has a top-level await: each one loads with require()',
  async (t) => {
    t.timeout(60_000);
    const dir = await consumers();
    const built = join(dir, 'node_modules', NAME, 'build', 'src');
    const modules = (readdirSync(built, { recursive: true }) as string[]).filter(
      (file) => file.endsWith('.js') && file !== 'cli.js',
    );
    t.true(modules.length > 30);
    const requireAll = `for (const file of ${JSON.stringify(modules)}) require(require('node:path').join(${JSON.stringify(built)}, file));`;
    const loaded = await run(process.execPath, ['-e', requireAll], dir);
    t.is(loaded.code, 0, loaded.stderr);
    // cli.js runs when loaded: `status` on a pidfile that does not exist says "not running" (3).
    const cli = project(
      join(dir, 'require-cli'),
      { type: 'commonjs' },
      { 'index.js': `require(${JSON.stringify(join(built, 'cli.js'))});` },
    );
    const status = await run(
      process.execPath,
      ['index.js', 'status', '--pidfile', join(work, 'none.pid')],
      cli,
    );
    t.is(status.code, 3, status.stderr);
  },
);

test.serial('npm install -g <tarball> gives a working keepalive command', async (t) => {
  t.timeout(120_000);
  const { file } = await tarball();
  const prefix = join(work, 'global');
  await ok('npm', ['install', '--global', '--prefix', prefix, ...NPM, file], work);
  await keepaliveCommand(t, join(prefix, 'bin', 'keepalive'));
});
