// keepalive-supervisor/client in real Node.js children; the test holds the other end of the
// channel.
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs `code` (an ES module importing keepalive-supervisor/client) with a channel at fd 3 unless
 * `channel` is false.
 */
function child(
  code: string,
  env: NodeJS.ProcessEnv,
  channel = true,
): { process: ChildProcess; channel: Readable; output: () => string } {
  const { KEEPALIVE_NOTIFY_FD: _fd, KEEPALIVE_HEARTBEAT_MS: _ms, ...clean } = process.env;
  const started = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: PACKAGE,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'inherit', channel ? 'pipe' : 'ignore'],
  });
  let output = '';
  started.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return { process: started, channel: started.stdio[3] as Readable, output: () => output };
}

test('outside keepalive every call is a silent no-op, and nothing keeps the process alive', (t) => {
  const code = `
    import * as client from 'keepalive-supervisor/client';
    const stop = client.heartbeat();
    client.beat(); client.ready(); client.status('x'); client.stopping(); client.extendTimeout(10); client.trigger();
    stop();
    console.log(String(client.supervised()));`;
  const { KEEPALIVE_NOTIFY_FD: _fd, ...clean } = process.env;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: PACKAGE,
    env: clean,
    encoding: 'utf8',
    timeout: 20_000,
  });
  t.is(result.status, 0);
  t.is(result.stdout, 'false\n');
  t.is(result.stderr, '');
});

test('each call writes one sd_notify line', async (t) => {
  const { process: started, channel } = child(
    `import * as client from 'keepalive-supervisor/client';
     client.ready(); client.status('two\\nlines'); client.beat(); client.extendTimeout(1500); client.stopping(); client.trigger();`,
    { KEEPALIVE_NOTIFY_FD: '3' },
  );
  let received = '';
  channel.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  await once(started, 'close');
  t.is(
    received,
    'READY=1\nSTATUS=two lines\nWATCHDOG=1\nEXTEND_TIMEOUT_USEC=1500000\nSTOPPING=1\nWATCHDOG=trigger\n',
  );
});

test('heartbeat() beats every third of KEEPALIVE_HEARTBEAT_MS, and its timer keeps nothing alive', async (t) => {
  const { process: started, channel } = child(
    `import { heartbeat } from 'keepalive-supervisor/client';
     heartbeat();
     setTimeout(() => {}, 1000);`,
    { KEEPALIVE_NOTIFY_FD: '3', KEEPALIVE_HEARTBEAT_MS: '300' },
  );
  const beats: number[] = [];
  channel.setEncoding('utf8').on('data', (chunk: string) => {
    for (const _beat of chunk.matchAll(/WATCHDOG=1\n/g)) beats.push(performance.now());
  });
  const [status] = await once(started, 'close');
  t.is(status, 0, 'the process ended when its own work was done');
  t.true(beats.length >= 4, `${beats.length} beats`);
  const first = beats[0] ?? 0;
  const fifth = beats[4] ?? beats.at(-1) ?? 0;
  const spacing = (fifth - first) / Math.max(1, Math.min(beats.length, 5) - 1);
  t.true(spacing >= 70 && spacing <= 400, `a beat every ${Math.round(spacing)}ms`);
});

test('when keepalive is gone, the next write calls onSupervisorLost', async (t) => {
  const {
    process: started,
    channel,
    output,
  } = child(
    `import { heartbeat, onSupervisorLost } from 'keepalive-supervisor/client';
     onSupervisorLost((error) => { console.log('lost: ' + error.code); process.exit(7); });
     heartbeat();
     setInterval(() => {}, 1000);`,
    { KEEPALIVE_NOTIFY_FD: '3', KEEPALIVE_HEARTBEAT_MS: '90' },
  );
  await once(channel, 'data');
  channel.destroy();
  const [status] = await once(started, 'close');
  t.is(status, 7);
  t.is(output(), 'lost: EPIPE\n');
});

test('by default, losing keepalive only stops the messages: the app runs on', async (t) => {
  const {
    process: started,
    channel,
    output,
  } = child(
    `import { heartbeat, supervised } from 'keepalive-supervisor/client';
     heartbeat();
     const check = setInterval(() => {
       if (!supervised()) { console.log('unsupervised, still running'); clearInterval(check); }
     }, 10);`,
    { KEEPALIVE_NOTIFY_FD: '3', KEEPALIVE_HEARTBEAT_MS: '90' },
  );
  await once(channel, 'data');
  channel.destroy();
  const [status] = await once(started, 'close');
  t.is(status, 0);
  t.is(output(), 'unsupervised, still running\n');
});
