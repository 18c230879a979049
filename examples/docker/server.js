// A small HTTP server to run under keepalive in a container. GET /crash ends it with SIGSEGV,
// GET /orphan leaves an orphaned process behind for keepalive (PID 1) to reap.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  if (request.url === '/crash') {
    response.end('crashing\n');
    setImmediate(() => process.kill(process.pid, 'SIGSEGV'));
    return;
  }
  if (request.url === '/orphan') {
    spawn('sh', ['-c', '(sleep 1 &)'], { stdio: 'ignore' });
    response.end('orphaned a sleep\n');
    return;
  }
  response.end(`hello from pid ${process.pid}, restart ${process.env.KEEPALIVE_RESTARTS}\n`);
});
server.listen(8080, () => console.log('listening on :8080'));
// Finish in-flight requests on SIGTERM, within keepalive's --kill-timeout.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
