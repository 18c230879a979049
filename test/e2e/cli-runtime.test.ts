// How the command runs V8: without TurboFan (see src/cli.ts), so no compilation burst holds up a restart.
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../src/bin.cjs', import.meta.url));
/** keepalive's functions that a restart loop makes hot: TurboFan compiled each of them within 500 restarts. */
const HOT = ['#loop', '#leaderExited', '#input', 'spawnNative', 'nativeSpawn', 'startHeart', 'watchChild', 'collect'];

test('500 zero-delay restarts of the keepalive command compile none of its functions with TurboFan', async (t) => {
  const result = await promisify(execFile)(process.execPath, ['--trace-opt', BIN, '-q', '--delay', '0', '--max-restarts', '500', '--', 'sh', '-c', 'exit 3'], { maxBuffer: 16 * 1024 * 1024 }).then(
    () => undefined,
    (error: { stdout: string; stderr: string; code: number }) => error,
  );
  if (result === undefined) return t.fail('keepalive exited 0');
  t.is(result.code, 3, 'keepalive gives up with the child\'s status');
  t.regex(result.stderr, /giving up: 501 failures/);
  const compiled = result.stdout.split('\n').filter((line) => line.includes('(target TURBOFAN)') && HOT.some((name) => line.includes(`<JSFunction ${name} `)));
  t.deepEqual(compiled.slice(0, 3), [], `${compiled.length} lines of TurboFan work on keepalive's hot functions`);
});
