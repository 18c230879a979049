// A deliberately unreliable app for trying keepalive:
//   npx keepalive -- node examples/flaky.js
// Each run works for a moment, then ends in a different way, so you can read how keepalive
// describes each ending and watch the restart delay grow.
const endings = [
  [
    'throws an uncaught exception (exit code 1)',
    () => {
      throw new Error('something went wrong');
    },
  ],
  ['dereferences a bad pointer (SIGSEGV)', () => process.kill(process.pid, 'SIGSEGV')],
  ['aborts (SIGABRT)', () => process.abort()],
  ['exits with code 3', () => process.exit(3)],
  ['is killed (SIGKILL)', () => process.kill(process.pid, 'SIGKILL')],
];
const run = Number(process.env.KEEPALIVE_RESTARTS ?? 0);
const [what, end] = endings[run % endings.length];
console.log(`flaky: run ${run + 1}, pid ${process.pid}: working... (soon ${what})`);
setTimeout(end, 500);
