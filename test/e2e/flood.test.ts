// A flood on the notify channel must not delay a hang verdict, whatever the flood is made of: a
// child flooding STATUS= lines is declared hung as soon after its deadline as a quiet child.
import test from 'ava';
import { fixture, Keepalive } from '../helpers/keepalive.js';
import { eventually } from '../helpers/proc.js';

const HEARTBEAT_MS = 200;
const VERDICTS = 9;
/** Generous: on average a STATUS= flood verdict may come this much later than the quiet child's. */
const SLACK_MS = 30;

/** The hang verdicts' lateness (silence past the heartbeat), from keepalive's own JSON lines. */
async function lateness(kind: string): Promise<number[]> {
  const keepalive = new Keepalive([
    '--log-format',
    'json',
    '--heartbeat',
    `${HEARTBEAT_MS}ms`,
    '--heartbeat-grace',
    '10s',
    '--delay',
    '0',
    '--',
    'node',
    fixture('flood.mjs'),
    kind,
  ]);
  try {
    const hangs = (): number[] =>
      keepalive.stderr.all.flatMap((line) => {
        const event = JSON.parse(line) as { event: string; silentMs?: number };
        return event.event === 'hang' && event.silentMs !== undefined
          ? [event.silentMs - HEARTBEAT_MS]
          : [];
      });
    await eventually(`${VERDICTS} hang verdicts`, () => hangs().length >= VERDICTS, 40_000);
    return hangs().slice(0, VERDICTS);
  } finally {
    // SIGTERM, not SIGKILL: keepalive must take its child (a fresh one, maybe) with it, or the
    // child holds the output pipes open and the test never ends.
    keepalive.signal('SIGTERM');
    await keepalive.ended;
  }
}

const mean = (values: readonly number[]): number =>
  Math.round(values.reduce((sum, value) => sum + value, 0) / values.length);

test('a flood of STATUS= lines does not delay the hang verdict: as late as a quiet child', async (t) => {
  const [quiet, status] = await Promise.all([lateness('quiet'), lateness('status')]);
  t.log(`late by (ms): quiet ${quiet.join(' ')}; STATUS= flood ${status.join(' ')}`);
  t.true(
    mean(status) <= mean(quiet) + SLACK_MS,
    `mean lateness: STATUS= flood ${mean(status)}ms, quiet child ${mean(quiet)}ms`,
  );
});
