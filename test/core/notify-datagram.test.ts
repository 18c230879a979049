// One datagram of the notify socket, read with the pipe's vocabulary.
import test from 'ava';
import fc from 'fast-check';
import { decodeDatagram, NotifyDecoder, type NotifyMessage } from '../../src/core/notify.js';
import { newlineJoined } from '../helpers/lines.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (text: string, lastStatusOnly = false): NotifyMessage[] => {
  const messages: NotifyMessage[] = [];
  decodeDatagram(bytes(text), (message) => messages.push(message), { lastStatusOnly });
  return messages;
};

test('several KEY=VALUE lines per datagram, the last newline optional, as sd_notify sends them', (t) => {
  t.deepEqual(decode('READY=1\nSTATUS=serving'), [
    { kind: 'ready' },
    { kind: 'status', text: 'serving' },
  ]);
  t.deepEqual(decode('WATCHDOG=1\n'), [{ kind: 'beat' }]);
  t.deepEqual(decode('EXTEND_TIMEOUT_USEC=2000000\nWATCHDOG=trigger'), [
    { kind: 'extend', ms: 2000 },
    { kind: 'trigger' },
  ]);
  t.deepEqual(decode('MAINPID=42\nBARRIER=1\nFDSTORE=1'), [
    { kind: 'main-pid', pid: 42 },
    { kind: 'ignored' },
    { kind: 'ignored' },
  ]);
  t.deepEqual(decode('READY=2\nnonsense'), [
    { kind: 'dropped', why: 'malformed' },
    { kind: 'dropped', why: 'malformed' },
  ]);
});

test('an empty datagram or empty line carries nothing: unlike on the pipe, no beat', (t) => {
  t.deepEqual(decode(''), []);
  t.deepEqual(decode('\n\n'), []);
  t.deepEqual(decode('\nSTOPPING=1\n\n'), [{ kind: 'stopping' }]);
});

test('lastStatusOnly: of STATUS= lines in a row only the last, drops still counted', (t) => {
  t.deepEqual(decode('STATUS=a\nSTATUS=b\nREADY=1\nSTATUS=c', true), [
    { kind: 'status', text: 'b' },
    { kind: 'ready' },
    { kind: 'status', text: 'c' },
  ]);
  const invalid: NotifyMessage[] = [];
  decodeDatagram(
    new Uint8Array([...bytes('STATUS=a\nSTATUS='), 0xff]),
    (message) => invalid.push(message),
    { lastStatusOnly: true },
  );
  t.deepEqual(invalid, [
    { kind: 'status', text: 'a' },
    { kind: 'dropped', why: 'not-utf8' },
  ]);
});

test('property: a datagram of non-empty lines reads as the pipe reads the same lines', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.uint8Array({ minLength: 1, maxLength: 40 }).filter((line) => !line.includes(0x0a)),
        { maxLength: 20 },
      ),
      (lines) => {
        const joined = newlineJoined(lines);
        const fromDatagram: NotifyMessage[] = [];
        decodeDatagram(joined, (message) => fromDatagram.push(message));
        const fromPipe: NotifyMessage[] = [];
        new NotifyDecoder().push(joined, (message) => fromPipe.push(message));
        // A line that is only "\r" is empty on the pipe after its CR goes: a beat there, nothing
        // here.
        t.deepEqual(fromDatagram.length <= fromPipe.length, true);
        return (
          JSON.stringify(fromDatagram) === JSON.stringify(fromPipe) ||
          lines.some((line) => line.length === 1 && line[0] === 0x0d)
        );
      },
    ),
  );
  t.pass();
});
