/**
 * EMULATED servers of the lab's application pods: the `web` pod's image is nginx, which would
 * serve HTTP on port 80; the lab runs no nginx, so this process, started by `lab up` inside the
 * pod's network namespace, answers in its place: a TCP server that reads a request and answers
 * as nginx does (`200 OK` to an HTTP request, `400 Bad Request` to anything else) and closes
 * (HTTP/1.0, `Connection: close`: its FIN follows the answer), and a UDP echo (a DNS-like
 * request/answer pair: one datagram back per datagram in). The sockets are real, so every packet
 * of the handshake, the data and the FINs is the kernel's.
 *
 * Bounded: it exits when its pidfile disappears (`lab down` removes the lab directory; it also
 * kills it by that pidfile) or after --max-seconds, and serves at most --max-connections.
 *
 *   node pod-servers.mjs --pidfile FILE [--tcp PORT]... [--udp PORT]... [--max-seconds S]
 */
import { createSocket } from 'node:dgram';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';

interface Options {
  pidfile: string;
  tcp: number[];
  udp: number[];
  maxSeconds: number;
  maxConnections: number;
}

function parse(args: string[]): Options {
  const o: Options = { pidfile: '', tcp: [], udp: [], maxSeconds: 12 * 3600, maxConnections: 100_000 };
  for (let i = 0; i < args.length; i++) {
    const v = args[i + 1];
    switch (args[i]) {
      case '--pidfile': o.pidfile = v; break;
      case '--tcp': o.tcp.push(Number(v)); break;
      case '--udp': o.udp.push(Number(v)); break;
      case '--max-seconds': o.maxSeconds = Number(v); break;
      case '--max-connections': o.maxConnections = Number(v); break;
      default: throw new Error(`unknown argument ${args[i]}`);
    }
    i++;
  }
  if (o.pidfile === '') throw new Error('--pidfile is required');
  return o;
}

const SERVER = 'nginx/1.27.3';
const PAGE = '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n';

/** nginx's answer to the first bytes of a connection: a request line gets the page (no body for HEAD), anything else 400. */
function httpAnswer(request: string): string {
  const line = /^(GET|HEAD) \S+ HTTP\/1\.[01]\r?\n/.exec(request);
  const [status, body] = line ? ['200 OK', line[1] === 'HEAD' ? '' : PAGE] : ['400 Bad Request', '<html>\r\n<head><title>400 Bad Request</title></head>\r\n</html>\r\n'];
  const length = line ? PAGE.length : body.length;
  return `HTTP/1.1 ${status}\r\nServer: ${SERVER}\r\nContent-Type: text/html\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${body}`;
}

function main(): void {
  const o = parse(process.argv.slice(2));
  let connections = 0;
  const listening: Promise<void>[] = [];
  for (const port of o.tcp) {
    const server = createServer((socket: Socket) => {
      if (++connections > o.maxConnections) return socket.destroy();
      socket.setTimeout(10_000, () => socket.destroy());
      socket.once('data', (chunk: Buffer) => socket.end(httpAnswer(chunk.toString('latin1'))));
      socket.on('error', () => undefined);
    });
    listening.push(new Promise((resolve) => server.listen(port, '0.0.0.0', resolve)));
  }
  for (const port of o.udp) {
    const socket = createSocket('udp4');
    socket.on('message', (msg, from) => socket.send(msg, from.port, from.address));
    listening.push(new Promise((resolve) => socket.bind(port, '0.0.0.0', resolve)));
  }
  void Promise.all(listening).then(() => {
    // Written once every socket listens: `lab up` waits for it.
    writeFileSync(o.pidfile, `${process.pid}\n`);
    const started = Date.now();
    setInterval(() => {
      if (!existsSync(o.pidfile) || Date.now() - started > o.maxSeconds * 1000) process.exit(0);
    }, 2000);
  });
  const stop = (): void => {
    rmSync(o.pidfile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
