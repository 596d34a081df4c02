/**
 * A byte relay between a Unix socket and a TCP port. Unix sockets are files, so they cross network
 * namespaces: the API server of the cluster node, which listens only inside the node's namespace, is
 * reached from this machine's loopback through one relay on each side.
 *   relay.ts <unix-socket-to-listen-on> <host:port-to-connect-to>   (the side inside the namespace)
 */
import { rmSync } from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';

/** Pipes both ways; either side closing or failing closes the other. */
export function splice(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
}

/** Listens on `socketPath` and connects each client to `host:port`. */
export function unixToTcp(socketPath: string, host: string, port: number): Server {
  rmSync(socketPath, { force: true });
  return createServer((client) => splice(client, connect(port, host))).listen(socketPath);
}

/** Listens on 127.0.0.1 (`port` 0: any free port) and connects each client to `socketPath`. */
export function loopbackToUnix(socketPath: string, port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((client) => splice(client, connect(socketPath)));
    server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server));
  });
}

if (require.main === module) {
  const [socketPath, target] = process.argv.slice(2);
  const [host, port] = (target ?? '').split(':');
  if (!socketPath || !host || !port) {
    console.error('usage: relay.ts <unix-socket> <host:port>');
    process.exit(2);
  }
  unixToTcp(socketPath, host, Number(port));
}
