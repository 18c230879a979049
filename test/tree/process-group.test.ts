// LeaderGroup: a child's group number is signalled only while it can name nothing else.
import test from 'ava';
import { LeaderGroup } from '../../src/tree/process-group.js';

const settled = Promise.resolve();

test('before its leader is reaped, the number is the group: its zombie holds it', (t) => {
  t.true(new LeaderGroup(process.pid, new Promise(() => {})).ours);
});

test('after the reaping, a process holding the number means the old group is empty and another has it', async (t) => {
  const group = new LeaderGroup(process.pid, settled); // this very process stands for the stranger
  await settled;
  t.false(group.ours);
  t.false(group.signal(0), 'not even a probe goes to it');
});

test('after the reaping, a number nobody holds is still the old group, if any is left of it', async (t) => {
  const group = new LeaderGroup(4_194_303, settled); // pid_max's last number: no process here has it
  await settled;
  t.true(group.ours);
  t.false(group.signal(0), 'no such group: ESRCH');
});
