// The set side of the output benchmark (output.ts): one process per name, each `cat FILE`, its
// stdout and stderr through the prefixer to this process's stdout, as keepalive's engine will run
// them. Prints its own CPU time as one JSON line on stderr when every run has ended.
// --relay: the bytes go to stdout as they come, no lines, no prefix (Node's own I/O, for scale).
// Usage: node output-set.js [--relay] FILE NAME...
import { finished } from 'node:stream/promises';
import { resolveOptions } from '../../src/options.js';
import type { OutputTarget } from '../../src/output/types.js';
import { prefixedOutput } from '../../src/output/prefixed.js';
import { startRun } from '../../src/run.js';

const relay = process.argv[2] === '--relay';
const [file, ...names] = process.argv.slice(relay ? 3 : 2);
if (file === undefined || names.length === 0) {
  process.stderr.write('usage: output-set [--relay] FILE NAME...\n');
  process.exit(2);
}
const relayed: OutputTarget = {
  async follow(_who, streams) {
    for (const stream of [streams.stdout, streams.stderr])
      stream.pipe(process.stdout, { end: false });
    await Promise.all([finished(streams.stdout), finished(streams.stderr)]);
  },
};
const target = relay ? () => relayed : await prefixedOutput({ names, color: 0 });
await Promise.all(
  names.map(async (name) => {
    const options = {
      ...resolveOptions({ command: 'cat', args: [file], name }),
      output: target(name),
    };
    const started = await startRun({
      options,
      env: process.env,
      restarts: 0,
      now: () => performance.now(),
      oomKills: () => undefined,
      emit: (() => true) as never,
      ownsOrphans: false,
    });
    if (!started.started) throw new Error(`${name}: not started`);
    await started.run.exited;
    await started.run.swept();
  }),
);
const { user, system } = process.cpuUsage();
process.stderr.write(`${JSON.stringify({ userMs: user / 1000, systemMs: system / 1000 })}\n`);
