// A Node.js app whose event loop gets stuck in a long synchronous computation:
//   npx keepalive --heartbeat 1s -- node examples/busy-loop.js
// heartbeat() beats from the event loop, so the stuck loop misses its beats and keepalive restarts
// the app; an app that only crashed would never need this.
import { heartbeat, ready, status } from 'keepalive-supervisor/client';

heartbeat();
ready();
let requests = 0;
const serve = setInterval(() => status(`served ${++requests} requests`), 100);
console.log(`busy-loop: pid ${process.pid}, working`);

setTimeout(() => {
  console.log('busy-loop: computing something synchronously... (the event loop is blocked)');
  clearInterval(serve);
  for (;;); // stuck, as a catastrophic regex or a runaway loop would be
}, 2500);
