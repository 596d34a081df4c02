import { createServer, Server } from 'node:net';

/** `N` ports: a tuple of that length when `N` is a literal (`freePorts(3)`), a list otherwise. */
export type Ports<N extends number, Drawn extends number[] = []> = number extends N
  ? number[]
  : Drawn['length'] extends N
    ? Drawn
    : Ports<N, [...Drawn, number]>;

/**
 * `count` distinct ports nothing listens on right now (the OS picks them), none already in `taken`, which
 * records them. Every port is held until all are drawn, so one call never returns the same port twice;
 * `taken` keeps later calls from handing out a port an earlier one did (its process may not listen yet).
 */
export async function freePorts<N extends number>(count: N, taken = new Set<number>()): Promise<Ports<N>> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = createServer();
      server.unref();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      held.push(server);
      const port = (server.address() as { port: number }).port;
      if (!taken.has(port)) {
        taken.add(port);
        ports.push(port);
      }
    }
    return ports as Ports<N>;
  } finally {
    await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** One free port, for sidecars, apps and throwaway servers. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}
