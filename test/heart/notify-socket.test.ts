// The notify socket with real datagrams: an abstract one, and the private-directory fallback.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { openNotifySocket, type NotifySocket } from '../../src/heart/notify-socket.js';

const run = promisify(execFile);

function received(socket: NotifySocket): Array<{ text: string; pid: number | undefined }> {
  const got: Array<{ text: string; pid: number | undefined }> = [];
  socket.listen({
    datagrams: (read) =>
      read((datagram) =>
        got.push({ text: Buffer.from(datagram.bytes).toString(), pid: datagram.sender?.pid }),
      ),
  });
  return got;
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("abstract: an @name, datagrams read whole with the sender's credentials", async (t) => {
  const socket = openNotifySocket();
  if ('error' in socket) return t.fail(socket.error);
  try {
    t.regex(socket.address, /^@keepalive\/\d+\/[0-9a-z]+-[0-9a-z]+-[0-9a-z]+$/);
    const got = received(socket);
    await run('systemd-notify', ['--ready', '--status=one'], {
      env: { ...process.env, NOTIFY_SOCKET: socket.address },
    });
    await until('the datagram', () => got.some((datagram) => datagram.text.startsWith('READY=1')));
    const ready = got.find((datagram) => datagram.text.startsWith('READY=1'));
    t.is(ready?.text, 'READY=1\nSTATUS=one');
    t.true(typeof ready?.pid === 'number' && ready.pid > 0);
  } finally {
    socket.close();
  }
});

test('abstract: a name another socket holds already (EADDRINUSE) is passed over for a new one', async (t) => {
  const squatter = openNotifySocket();
  if ('error' in squatter) return t.fail(squatter.error);
  const names = [squatter.address.slice(1), `keepalive/${process.pid}/second-choice`];
  const socket = openNotifySocket({ name: () => names.shift() ?? 'keepalive/none-left' });
  try {
    if ('error' in socket) return t.fail(socket.error);
    t.is(socket.address, `@keepalive/${process.pid}/second-choice`);
    const got = received(socket);
    await run('systemd-notify', ['--status=second'], {
      env: { ...process.env, NOTIFY_SOCKET: socket.address },
    });
    await until('the datagram', () => got.some((datagram) => datagram.text === 'STATUS=second'));
    t.pass();
  } finally {
    if ('address' in socket) socket.close();
    squatter.close();
  }
});

test('a path in a private 0700 directory where abstract sockets are not used; removed at close', async (t) => {
  const socket = openNotifySocket({ abstract: false });
  if ('error' in socket) return t.fail(socket.error);
  const directory = dirname(socket.address);
  try {
    t.is(statSync(directory).mode & 0o777, 0o700);
    t.deepEqual(readdirSync(directory), ['notify']);
    const got = received(socket);
    await run('systemd-notify', ['--status=by path'], {
      env: { ...process.env, NOTIFY_SOCKET: socket.address },
    });
    await until('the datagram', () => got.some((datagram) => datagram.text === 'STATUS=by path'));
    t.pass();
  } finally {
    socket.close();
  }
  t.false(existsSync(directory));
});

test('a path for a child of another user (--user): that user may send, no other user may', async (t) => {
  const nobody = { uid: 65534, gid: 65534 };
  const socket = openNotifySocket({ abstract: false, allow: nobody });
  if ('error' in socket) return t.fail(socket.error);
  const directory = dirname(socket.address);
  const as = (uid: number, status: string): Promise<unknown> =>
    run(
      'setpriv',
      [
        `--reuid=${uid}`,
        `--regid=${uid}`,
        '--clear-groups',
        'systemd-notify',
        `--status=${status}`,
      ],
      { env: { ...process.env, NOTIFY_SOCKET: socket.address } },
    );
  try {
    // Search for all on the directory, nothing more; the socket is the user's alone.
    t.is(statSync(directory).mode & 0o777, 0o711);
    t.is(statSync(directory).uid, 0);
    t.is(statSync(socket.address).mode & 0o777, 0o600);
    t.is(statSync(socket.address).uid, nobody.uid);
    const got: Array<{ text: string; uid: number | undefined }> = [];
    socket.listen({
      datagrams: (read) =>
        read((datagram) =>
          got.push({ text: Buffer.from(datagram.bytes).toString(), uid: datagram.sender?.uid }),
        ),
    });
    await as(nobody.uid, 'from the user');
    await until('the datagram', () =>
      got.some((datagram) => datagram.text === 'STATUS=from the user'),
    );
    t.is(got.find((datagram) => datagram.text === 'STATUS=from the user')?.uid, nobody.uid);
    await t.throwsAsync(as(54331, 'from another'));
  } finally {
    socket.close();
  }
  t.false(existsSync(directory));
});

test('between runs (no listener) datagrams are read and let go; close twice is harmless', async (t) => {
  const socket = openNotifySocket();
  if ('error' in socket) return t.fail(socket.error);
  await run('systemd-notify', ['--status=nobody listens'], {
    env: { ...process.env, NOTIFY_SOCKET: socket.address },
  });
  const got = received(socket);
  socket.drain();
  t.deepEqual(got, []);
  socket.close();
  socket.close();
});

test('many sockets in one process share one waiting thread: the threadpool stays free for fs work', async (t) => {
  // A pool of 2: one per socket would leave none for readFile.
  const script = `
    import { openNotifySocket } from ${JSON.stringify(new URL('../../src/heart/notify-socket.js', import.meta.url).href)};
    import { readFile } from 'node:fs/promises';
    import { execFile } from 'node:child_process';
    import { promisify } from 'node:util';
    const sockets = [0, 1, 2, 3].map(() => openNotifySocket());
    const got = [];
    sockets.forEach((socket, i) => socket.listen({ datagrams: (read) => read((d) => got.push(i + ' ' + Buffer.from(d.bytes))) }));
    const stuck = setTimeout(() => { console.log('readFile blocked'); process.exit(1); }, 5000);
    await readFile('/proc/self/stat');
    clearTimeout(stuck);
    for (const [i, socket] of sockets.entries()) await promisify(execFile)('systemd-notify', ['--status=' + i], { env: { ...process.env, NOTIFY_SOCKET: socket.address } });
    sockets.forEach((socket) => socket.close());
    console.log(got.filter((line) => line.includes('STATUS')).join(','));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '2' },
  });
  t.is(stdout, '0 STATUS=0,1 STATUS=1,2 STATUS=2,3 STATUS=3\n');
});

test('process.exit() with a socket still open and waiting does not hang (Node joins its threadpool at exit)', async (t) => {
  const module = JSON.stringify(new URL('../../src/heart/notify-socket.js', import.meta.url).href);
  const script = `import { openNotifySocket } from ${module}; openNotifySocket(); setTimeout(() => process.exit(7), 100);`;
  const started = performance.now();
  const error = await run(process.execPath, ['--input-type=module', '-e', script], {
    timeout: 10_000,
  }).then(
    () => undefined,
    (failure: { code?: number; killed?: boolean }) => failure,
  );
  t.is(error?.code, 7, `killed by the timeout: ${String(error?.killed)}`);
  t.true(performance.now() - started < 5_000);
});
