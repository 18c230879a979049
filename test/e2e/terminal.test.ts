// keepalive in a real terminal (tmux): Ctrl+C, Ctrl+\, Ctrl+Z and fg, and a child that reads input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CLI } from '../helpers/keepalive.js';
import { eventually, processState, stoppedTree } from '../helpers/proc.js';
import { Terminal } from '../helpers/terminal.js';

/**
 * A command line that runs keepalive and then prints its status. Through a script, so that when
 * Ctrl+Z stops the job the status line waits for `fg` instead of reporting the stop.
 */

function keepalive(args: string): string {
  const script = join(mkdtempSync(join(tmpdir(), 'keepalive-terminal-')), 'run.sh');
  // The script traps Ctrl+C and Ctrl+\ (without ignoring them, which keepalive would inherit) so it
  // lives to print.
  writeFileSync(script, `trap : INT QUIT\n${process.execPath} ${CLI} ${args}\necho "exit=$?"\n`);
  return `sh ${script}`;
}

test('Ctrl+C stops keepalive and the child once: status 130', async (t) => {
  const terminal = new Terminal('ctrl-c');
  t.teardown(() => terminal.close());
  terminal.run(keepalive('--name ctrlc -- sleep 1000'));
  const [, pid] = await terminal.waitFor(/ctrlc\[(\d+)\] started/);
  terminal.press('C-c');
  await terminal.waitFor(/exit=130/);
  const screen = terminal.screen();
  t.is(screen.match(/SIGINT received/g)?.length, 1, screen);
  t.is(
    screen.match(
      /ctrlc\[\d+\] killed: SIGINT \(User interruption with CTRL-C\), status 130; stopped/g,
    )?.length,
    1,
    screen,
  );
  t.is(processState(Number(pid)), undefined);
});

test('Ctrl+\\ stops them likewise: SIGQUIT, status 131', async (t) => {
  const terminal = new Terminal('ctrl-backslash');
  t.teardown(() => terminal.close());
  terminal.run(keepalive('--name quit -- sleep 1000'));
  await terminal.waitFor(/quit\[\d+\] started/);
  terminal.press('C-\\');
  await terminal.waitFor(/exit=131/);
  t.regex(
    terminal.screen(),
    /quit\[\d+\] crashed: SIGQUIT \(User interruption with CTRL-\\\), status 131/,
  );
});

test('Ctrl+Z suspends keepalive and the child; fg resumes both', async (t) => {
  const terminal = new Terminal('ctrl-z');
  t.teardown(() => terminal.close());
  terminal.run(
    keepalive(
      `--name tick -- sh -c 'echo "supervisor $KEEPALIVE_PID"; while :; do sleep 0.1; done'`,
    ),
  );
  const [, supervisor] = await terminal.waitFor(/supervisor (\d+)/);
  const [, child] = await terminal.waitFor(/tick\[(\d+)\] started/);
  terminal.press('C-z');
  await eventually(
    'keepalive and the child to be stopped',
    () => processState(Number(supervisor)) === 'T' && stoppedTree(Number(child)),
  );
  await terminal.waitFor(/Stopped/);
  terminal.run('fg');
  await eventually(
    'keepalive and the child to run again',
    () => processState(Number(supervisor)) !== 'T' && !stoppedTree(Number(child)),
  );
  terminal.press('C-c');
  await terminal.waitFor(/exit=130/);
  t.pass();
});

test('a child that reads the terminal gets what is typed', async (t) => {
  const terminal = new Terminal('read');
  t.teardown(() => terminal.close());
  terminal.run(keepalive(`--restart never -- sh -c 'echo "name?"; read line; echo "got:$line"'`));
  await terminal.waitFor(/^name\?$/m);
  terminal.run('hello');
  await terminal.waitFor(/exit=0/);
  t.regex(terminal.screen(), /^got:hello$/m);
});
