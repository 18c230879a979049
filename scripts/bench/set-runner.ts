// A keepalive running a set through the API, as the set benchmark measures it from outside:
// `sleepers N` (N sleeping processes) or `chain N` (each ready 100 ms after its start, each
// depending on the one before with `ready`). Says "started" on stderr once every process has
// started, and (chain) the first and last start times as JSON on stdout.
import { superviseSet, type ProcessOptions } from '../../src/index.js';

const [mode = 'sleepers', countText = '1'] = process.argv.slice(2);
const count = Number(countText);
const names = Array.from({ length: count }, (_, index) => `p${index}`);
const processes: ProcessOptions[] = names.map((name, index) =>
  mode === 'chain'
    ? {
        name,
        command: 'sh',
        args: ['-c', 'sleep 0.1; echo READY=1 >&"$KEEPALIVE_NOTIFY_FD"; exec sleep 600'],
        waitReady: true,
        handleSignals: true,
        ...(index === 0
          ? {}
          : { dependsOn: { [`p${index - 1}`]: { condition: 'ready', restart: false } } }),
      }
    : { name, command: 'sleep', args: ['600'], handleSignals: true },
);
const set = superviseSet({ processes });
const starts: number[] = [];
set.on('spawn', () => {
  starts.push(performance.now());
  if (starts.length !== count) return;
  if (mode === 'chain')
    process.stdout.write(`${JSON.stringify({ first: starts[0], last: starts[count - 1] })}\n`);
  process.stderr.write('started\n');
});
await set.done;
