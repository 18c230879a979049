// Which files keepalive believes, from fstat facts alone.
import test from 'ava';
import {
  distrustDirectory,
  distrustLogFile,
  distrustRecord,
  distrustStep,
  type FileFacts,
} from '../../src/core/file-trust.js';

const ROOT = { uid: 0, gid: 0 };
const ALICE = { uid: 1000, gid: 1000 };
const file = (more: Partial<FileFacts> = {}): FileFacts => ({
  kind: 'file',
  uid: 0,
  gid: 0,
  mode: 0o100644,
  ...more,
});

test("a file beside FILE: regular, of keepalive's user or root, written by no one else", (t) => {
  t.is(distrustRecord(file(), ROOT), undefined);
  t.is(distrustRecord(file({ uid: 1000 }), ALICE), undefined, "keepalive's own user");
  t.is(distrustRecord(file({ uid: 0 }), ALICE), undefined, 'root, for a keepalive of another user');
  t.is(
    distrustRecord(file({ uid: 1001 }), ROOT),
    "it is owned by uid 1001, neither keepalive's user (uid 0) nor root",
  );
  t.is(distrustRecord(file({ mode: 0o100664, gid: 5 }), ROOT), 'its group (gid 5) can write it');
  t.is(
    distrustRecord(file({ mode: 0o100664 }), ROOT),
    'its group (gid 0) can write it',
    "even root's group: keepalive never writes it so",
  );
  t.is(distrustRecord(file({ mode: 0o100646 }), ROOT), 'any user can write it');
  t.is(distrustRecord(file({ kind: 'fifo' }), ROOT), 'it is a FIFO');
  t.is(
    distrustRecord(file({ kind: 'symlink' }), ROOT),
    'it is a symbolic link, which keepalive does not follow here',
  );
  t.is(
    distrustRecord(file({ uid: 1001 }), ROOT, (uid) => `uid ${uid} (bob)`),
    "it is owned by uid 1001 (bob), neither keepalive's user (uid 0 (bob)) nor root",
  );
});

test("a log file: the same, but keepalive's own group (or root's) may write it", (t) => {
  t.is(
    distrustLogFile(file({ uid: 1000, gid: 1000, mode: 0o100664 }), ALICE),
    undefined,
    'umask 002 with a group of its own',
  );
  t.is(
    distrustLogFile(file({ uid: 1000, gid: 100, mode: 0o100664 }), ALICE),
    'its group (gid 100) can write it',
  );
  t.is(distrustLogFile(file({ mode: 0o100666 }), ROOT), 'any user can write it');
  t.is(
    distrustLogFile(file({ uid: 1001, mode: 0o100600 }), ROOT),
    "it is owned by uid 1001, neither keepalive's user (uid 0) nor root",
  );
  t.is(distrustLogFile(file({ kind: 'device' }), ROOT), 'it is a device');
});

test("FILE's directory: nobody else may remove keepalive's files there, unless the sticky bit stops them", (t) => {
  const directory = (mode: number, more: Partial<FileFacts> = {}): FileFacts => ({
    kind: 'directory',
    uid: 0,
    gid: 0,
    mode: 0o40000 | mode,
    ...more,
  });
  t.is(distrustDirectory(directory(0o755), ROOT), undefined);
  t.is(
    distrustDirectory(directory(0o1777), ROOT),
    undefined,
    '/tmp: every file is checked on its own',
  );
  t.is(distrustDirectory(directory(0o777), ROOT), 'any user can write it and it has no sticky bit');
  t.is(
    distrustDirectory(directory(0o775, { gid: 50 }), ROOT),
    'its group (gid 50) can write it and it has no sticky bit',
  );
  t.is(
    distrustDirectory(directory(0o775, { uid: 1000, gid: 1000 }), ALICE),
    undefined,
    "keepalive's own group",
  );
  t.is(
    distrustDirectory(directory(0o755, { uid: 1001 }), ROOT),
    "it is owned by uid 1001, neither keepalive's user (uid 0) nor root",
  );
  t.is(distrustDirectory(file(), ROOT), 'it is a regular file');
});

test("a step on the way to FILE's directory: a directory as FILE's own, a link only by its owner", (t) => {
  const directory = (mode: number, more: Partial<FileFacts> = {}): FileFacts => ({
    kind: 'directory',
    uid: 0,
    gid: 0,
    mode: 0o40000 | mode,
    ...more,
  });
  const link = (uid: number): FileFacts => ({ kind: 'symlink', uid, gid: uid, mode: 0o120777 });
  t.is(distrustStep(directory(0o755), ROOT), undefined);
  t.is(
    distrustStep(directory(0o1777), ROOT),
    undefined,
    '/tmp above FILE: what lies in it is judged next',
  );
  t.is(
    distrustStep(directory(0o755, { uid: 1001 }), ROOT),
    "it is owned by uid 1001, neither keepalive's user (uid 0) nor root",
  );
  t.is(distrustStep(directory(0o777), ROOT), 'any user can write it and it has no sticky bit');
  t.is(distrustStep(link(0), ROOT), undefined, 'as /var/run -> /run: a link is always mode 777');
  t.is(distrustStep(link(1000), ALICE), undefined);
  t.is(
    distrustStep(link(1001), ROOT),
    "it is owned by uid 1001, neither keepalive's user (uid 0) nor root",
  );
  t.is(distrustStep(file(), ROOT), 'it is a regular file');
});
