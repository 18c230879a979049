// --output on a full disk (a small tmpfs mounted for the test), then space again: by default the
// child never waits and the lines dropped are counted exactly; --output-lossless: the child waits
// and nothing is lost.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { FileOutput, type WriterNews } from '../../src/output/file.js';
import { QUEUE_LIMIT } from '../../src/output/file-writer.js';
import { eventually } from '../helpers/proc.js';
import { seqNumbers, writeSeq } from './file-helpers.js';

/** A tmpfs of `size` for the test, unmounted when it ends. */
function smallDisk(t: ExecutionContext, size: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'keepalive-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', directory]);
  t.teardown(() => {
    try {
      execFileSync('umount', [directory]);
    } catch {
      execFileSync('umount', ['-l', directory]);
    }
    rmdirSync(directory);
  });
  return directory;
}

function output(t: ExecutionContext, path: string, lossless: boolean) {
  const news: WriterNews[] = [];
  const target = new FileOutput({
    path,
    stderrPath: undefined,
    maxSize: 10_000_000,
    keep: 5,
    maxAge: undefined,
    compress: false,
    timestamps: false,
    format: 'text',
    lossless,
    tell: (said) => news.push(said),
  });
  t.teardown(() => target.close(0));
  return { target, news };
}

test.serial(
  'a full disk: the child never waits, the dropped lines are counted exactly',
  async (t) => {
    const disk = smallDisk(t, '256k');
    // What is left after the filler: room for about 500 of the child's lines.
    const filler = join(disk, 'filler');
    writeFileSync(filler, Buffer.alloc(200 * 1024, 'x'));
    const path = join(disk, 'app.log');
    const { target, news } = output(t, path, false);
    const count = 1_500;
    const written = writeSeq(t, target, [count, 5, 5]);
    await eventually('lines dropped on the full disk', () => target.dropped > 0);
    // Space again: the lines that come now are written.
    rmSync(filler);
    const report = await written;
    await target.close();
    t.true(report.longestWriteMs < 100, `the child waited ${report.longestWriteMs} ms in a write`);
    const numbers = seqNumbers(t, readFileSync(path, 'utf8'));
    const dropped = target.dropped;
    t.true(dropped > 0);
    t.is(numbers.length + dropped, count, 'every line is written or counted as dropped');
    t.true(
      numbers.every((seq, at) => at === 0 || seq > (numbers[at - 1] as number)),
      'in order, once',
    );
    t.is(numbers.at(-1), count - 1, 'writing worked again');
    const said = news.filter((item) => item.kind === 'dropped');
    t.true(said.length >= 1);
    t.is(
      said.reduce((sum, item) => sum + (item.kind === 'dropped' ? item.lines : 0), 0),
      dropped,
    );
    t.like(said[0], { kind: 'dropped', reason: 'ENOSPC' });
  },
);

test.serial('--output-lossless on a full disk: the child waits, nothing is lost', async (t) => {
  const disk = smallDisk(t, '4m');
  const filler = join(disk, 'filler');
  writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024 - 56 * 1024, 'x'));
  const path = join(disk, 'app.log');
  const { target, news } = output(t, path, true);
  // 2 MB: more than the room, the queue and the pipe together.
  const count = 20_000;
  const written = writeSeq(t, target, [count, 200, 1]);
  await eventually('the queue full (the reader waits)', () => target.counts().queued > QUEUE_LIMIT);
  await new Promise((resolve) => setTimeout(resolve, 500));
  rmSync(filler);
  const report = await written;
  await target.close();
  t.true(report.longestWriteMs >= 300, `the child waited only ${report.longestWriteMs} ms`);
  t.is(target.dropped, 0);
  t.deepEqual(news, []);
  t.deepEqual(
    seqNumbers(t, readFileSync(path, 'utf8')),
    Array.from({ length: count }, (_, seq) => seq),
  );
});
