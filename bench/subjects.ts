import { Client } from 'pg';
import { pgCount } from '../test/support/sql';
import { waitUntil } from '../test/support/wait';
import type { Stack } from '../tools/stack';
import { Classifier, postgresServer, postmasterOf, processGroup, processId, redisPid } from './cpu';
import { PG, RawPipeline, REDIS_PORT } from './raw/pipeline';

/** Either pipeline, as a measuring step sees it: where writes go, where its rows land, what runs it. */
export interface Subject {
  name: 'ours' | 'raw';
  /** Where paced writes go: for ours through the catalog's sidecar, as a caller reaches it. */
  writeUrl: string;
  dbs: { catalog: string; audit: string };
  /** The processes doing its work, named; `exclude`: backends of the benchmark's own connections. */
  processes: (exclude?: Set<number>) => Classifier[];
  /** daprd's Prometheus endpoint per app (ours only). */
  metricsUrl?: (app: 'catalog' | 'audit') => string;
}

/** The shared servers' processes: PostgreSQL's postmaster and Redis. */
export interface Servers {
  postmaster: number;
  redis: number;
}

export async function findServers(): Promise<Servers> {
  const client = new Client({ ...PG, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0]?.pid;
    if (backend === undefined) throw new Error('pg_backend_pid() answered nothing');
    return { postmaster: postmasterOf(backend), redis: redisPid(REDIS_PORT) };
  } finally {
    await client.end();
  }
}

/** The groups whose CPU counts as the sidecars'. */
export const DAPRD_GROUPS = ['catalog daprd', 'audit daprd'];

export function oursSubject(stack: Stack, dbs: { catalog: string; audit: string }, servers: Servers): Subject {
  const catalog = stack.node('catalog');
  return {
    name: 'ours',
    writeUrl: `${catalog.daprUrl}/v1.0/invoke/catalog/method/api/products`,
    dbs,
    // The pids are read at each call: audit is restarted by the drain step.
    processes: (exclude = new Set()) => [
      processGroup('catalog app', stack.node('catalog').app.pid),
      processGroup('catalog daprd', stack.node('catalog').sidecar.pid),
      processGroup('audit app', stack.node('audit').app.pid),
      processGroup('audit daprd', stack.node('audit').sidecar.pid),
      postgresServer(servers.postmaster, [dbs.catalog, dbs.audit], exclude),
      processId('Redis', servers.redis),
    ],
    metricsUrl: (app) => `http://127.0.0.1:${stack.node(app).spec.metricsPort}/metrics`,
  };
}

export function rawSubject(raw: RawPipeline, servers: Servers): Subject {
  return {
    name: 'raw',
    writeUrl: raw.writeUrl,
    dbs: raw.dbs,
    processes: (exclude = new Set()) => [
      processGroup('raw writer + relay', raw.writer.pid),
      processGroup('raw consumer', raw.consumer.pid),
      postgresServer(servers.postmaster, [raw.dbs.catalog, raw.dbs.audit], exclude),
      processId('Redis', servers.redis),
    ],
  };
}

/**
 * Waits until every event written so far has its audit row: a run's backlog must not spill into the next
 * run (of the other pipeline, say) and take its CPU.
 */
export async function settle(subject: Subject): Promise<void> {
  await waitUntil(
    `${subject.name}: every event audited`,
    async () => {
      const events = await pgCount(subject.dbs.catalog, 'SELECT count(*) AS n FROM outbox_events');
      const audited = await pgCount(subject.dbs.audit, 'SELECT count(*) AS n FROM audit_logs');
      return audited >= events ? true : undefined;
    },
    300_000,
    200,
  );
}

/**
 * A connection of the benchmark's own to an audit database, kept open so that its backend is known and
 * left out of the CPU counted (a new connection per poll would be a new backend each time).
 */
export class AuditWatch {
  private constructor(
    private readonly client: Client,
    readonly backendPid: number,
  ) {}

  static async open(database: string): Promise<AuditWatch> {
    const client = new Client({ ...PG, database });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return new AuditWatch(client, rows[0]?.pid ?? -1);
  }

  /** The highest audit row id so far (ids grow with inserts). */
  async lastId(): Promise<number> {
    const { rows } = await this.client.query<{ id: number | null }>('SELECT max(id) AS id FROM audit_logs');
    return rows[0]?.id ?? 0;
  }

  /** Audit rows inserted after the row `afterId` (an index range, cheap however large the table). */
  async countAfter(afterId: number): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>('SELECT count(*) AS n FROM audit_logs WHERE id > $1', [
      afterId,
    ]);
    return Number(rows[0]?.n ?? 0);
  }

  /** Waits until `count` audit rows follow the row `afterId` (`what` names the wait in a timeout). */
  async waitForRows(afterId: number, count: number, what: string, timeoutMs: number, everyMs: number): Promise<void> {
    await waitUntil(
      what,
      async () => ((await this.countAfter(afterId)) >= count ? true : undefined),
      timeoutMs,
      everyMs,
    );
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
