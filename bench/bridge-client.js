// TLS load for bench/bridge.js (the C load generator speaks no TLS): Node's
// own tls over net, the same client for both servers, so the ratio compares
// the servers.
//   node bench/bridge-client.js https PORT CONNS SECONDS
//       CONNS keep-alive connections, one GET in flight each; prints
//       {"ops", "seconds", "rate"} (responses per second)
//   node bench/bridge-client.js tls-bulk PORT SECONDS
//       one connection writing 64 KiB chunks (backpressure honoured) for
//       SECONDS, then end(); the server answers with the byte count it got;
//       prints {"bytes", "seconds", "mbps"} (MB/s received by the server)
//   With EDGEIO_BENCH_SERVER_PID set, also prints the server's CPU seconds
//   (all threads, /proc schedstat) over the measured window as "server_cpu_s".
'use strict';
const fs = require('fs');
const tls = require('tls');

const serverPid = process.env.EDGEIO_BENCH_SERVER_PID;
/** CPU seconds used so far by every thread of the server (NaN when unknown). */
function serverCpu() {
  if (!serverPid) return NaN;
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${serverPid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${serverPid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread ended meanwhile
    }
  }
  return ns / 1e9;
}

const [mode, portArg, a, b] = process.argv.slice(2);
const port = Number(portArg);
const opts = { host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' };

function https(conns, seconds) {
  const req = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  // The response of bench/servers/bridge-targets.js ends with its body.
  const tail = 'Hello, World!';
  let ops = 0;
  let measuring = false;
  const started = [];
  for (let i = 0; i < conns; i++) {
    started.push(
      new Promise((resolve, reject) => {
        const s = tls.connect(opts, () => {
          s.write(req);
          resolve(s);
        });
        let pending = '';
        s.setEncoding('latin1');
        s.on('data', (d) => {
          pending += d;
          let k;
          while ((k = pending.indexOf(tail)) >= 0) {
            pending = pending.slice(k + tail.length);
            if (measuring) ops++;
            s.write(req);
          }
        });
        s.on('error', reject);
      }),
    );
  }
  return Promise.all(started).then(
    (socks) =>
      new Promise((resolve) => {
        // Handshakes done: warm up 0.5 s, then measure.
        setTimeout(() => {
          measuring = true;
          const t0 = process.hrtime.bigint();
          const cpu0 = serverCpu();
          setTimeout(() => {
            const secs = Number(process.hrtime.bigint() - t0) / 1e9;
            const cpu = serverCpu() - cpu0;
            measuring = false;
            for (const s of socks) s.destroy();
            resolve({ ops, seconds: secs, rate: ops / secs, server_cpu_s: cpu });
          }, seconds * 1000);
        }, 500);
      }),
  );
}

function bulk(seconds) {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  return new Promise((resolve, reject) => {
    const s = tls.connect(opts, () => {
      const t0 = process.hrtime.bigint();
      const cpu0 = serverCpu();
      const stopAt = Date.now() + seconds * 1000;
      const pump = () => {
        while (Date.now() < stopAt) {
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      let answer = '';
      s.setEncoding('latin1');
      s.on('data', (d) => (answer += d));
      s.on('end', () => {
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        const bytes = Number(answer);
        resolve({ bytes, seconds: secs, mbps: bytes / secs / 1e6, ops: bytes / 1e6, server_cpu_s: serverCpu() - cpu0 });
      });
      pump();
    });
    s.on('error', reject);
  });
}

(mode === 'https' ? https(Number(a), Number(b)) : bulk(Number(a))).then(
  (r) => process.stdout.write(JSON.stringify(r) + '\n'),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
