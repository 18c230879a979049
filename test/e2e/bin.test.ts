// What users run: the package's bin (package.json), which is the one-file bundle (dist/, built by
// `npm run build`) with its V8 code cache, not the plain build the other tests drive. The same
// answers as the plain build, and a cache V8 takes.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { PLAIN_CLI } from '../helpers/keepalive.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const BIN = join(ROOT, PACKAGE.bin['keepalive'] ?? 'missing');

function keepalive(args: readonly string[], command = [BIN]): { status: number | null; stdout: string; stderr: string } {
  const [program, ...rest] = command as [string, ...string[]];
  const result = spawnSync(program, [...rest, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the bin is the bundle, run by its hashbang', (t) => {
  t.is(PACKAGE.bin['keepalive'], 'build/src/bin.cjs');
  t.true(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n'));
});

test('exit statuses: the child\'s 3, 137 for a SIGKILLed child, 127 for a command not found', (t) => {
  const three = keepalive(['--restart', 'never', '--', 'sh', '-c', 'exit 3']);
  t.is(three.status, 3, three.stderr);
  t.regex(three.stderr, /exited with code 3; not restarting \(--restart never\)/);
  const killed = keepalive(['-q', '--restart', 'never', '--', 'sh', '-c', 'kill -KILL $$']);
  t.is(killed.status, 137, killed.stderr);
  const missing = keepalive(['--restart', 'never', '--', 'no-such-command-of-keepalive']);
  t.is(missing.status, 127);
  t.regex(missing.stderr, /command not found: no-such-command-of-keepalive, status 127/);
});

test('--help, --version and a usage error say what the plain build says', (t) => {
  for (const args of [['--help'], ['--version'], ['--delay', '5', '--', 'true'], []]) {
    const bundled = keepalive(args);
    const plain = keepalive(args, [process.execPath, PLAIN_CLI]);
    t.deepEqual(bundled, plain, args.join(' '));
  }
  t.is(keepalive(['--version']).stdout, `${PACKAGE.version}\n`);
});

test('$NOTIFY_SOCKET works from the bundle (koffi loaded from the package\'s node_modules)', (t) => {
  const result = keepalive(['-v', '--restart', 'never', '--', 'sh', '-c', 'systemd-notify --ready --status=bundled && sleep 0.2']);
  t.is(result.status, 0, result.stderr);
  t.regex(result.stderr, /is ready \(READY=1 after .*\n.*status: bundled\n/);
});

test('the code cache beside the bundle is one V8 takes (else every start compiles 500 KB)', (t) => {
  const loader = createRequire(import.meta.url)(BIN) as { compileBundle(): { cachedDataRejected?: boolean } };
  // In this process: the same Node that built it. undefined would mean no cache was read.
  t.is(loader.compileBundle().cachedDataRejected, false);
  // And a cache that does not fit (another Node's, a stale one) is ignored: the bundle still runs.
  const stale = execFileSync(process.execPath, ['-e', `const l = require(${JSON.stringify(BIN)}); const s = l.compileBundle(undefined, Buffer.from('not a cache')); console.log(s.cachedDataRejected)`], { encoding: 'utf8' });
  t.is(stale, 'true\n');
});
