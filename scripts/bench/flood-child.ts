// The throughput part's flooding child: writes LINE again and again to the notify channel for MS
// milliseconds, in 64 KiB blocks with blocking writes, prints how many lines it wrote, then waits
// to be stopped (so keepalive is still there to be measured).
import { writeSync } from 'node:fs';

const [line = '\n', ms = '1000'] = process.argv.slice(2);
const channel = Number(process.env['KEEPALIVE_NOTIFY_FD'] ?? 3);
const perBlock = Math.floor(65536 / line.length);
const block = Buffer.from(line.repeat(perBlock));

process.stdout.write('start\n');
const end = performance.now() + Number(ms);
let lines = 0;
while (performance.now() < end) {
  // A blocking pipe may still take a block in parts.
  for (let written = 0; written < block.length;) written += writeSync(channel, block, written);
  lines += perBlock;
}
process.stdout.write(`lines ${lines}\n`);
setInterval(() => {}, 1 << 30);
