/**
 * What one hop of an event's way costs in time on an idle machine: each call made alone, 100 ms after the
 * last (as the benchmark's idle pace does), straight to the server and through a sidecar. At idle an
 * event's delay is the sum of its hops, and a hop through daprd is a process more to wake.
 */
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { insertAuditLogs } from '../../audit/src/sinks/sql';
import { productCloudEvent } from '../../test/support/scenario';
import type { Stack } from '../../tools/stack';
import { PG, REDIS_PORT } from '../raw/pipeline';
import { percentile } from '../stats';

const CALLS = 40;
const GAP_MS = 100;

export interface HopTime {
  p50: number;
  p90: number;
}

async function timeCalls(call: (i: number) => Promise<unknown>): Promise<HopTime> {
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    await new Promise((r) => setTimeout(r, GAP_MS));
    const started = performance.now();
    await call(i);
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p90: percentile(ms, 90) };
}

const post = async (url: string, body: unknown) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
};

/** A one-row audit insert, as the audit service's binding runs it. */
const auditInsert = (i: number) =>
  insertAuditLogs('postgresql', [
    {
      eventId: `hop-${Date.now()}-${i}`,
      eventType: 'product.created',
      source: 'catalog',
      subjectId: i + 1,
      timeStamp: new Date(),
      logMessage: 'hop',
      payload: '{}',
    },
  ])[0];

/** Each hop alone at idle: PostgreSQL and Redis straight, then the same work and a bare call through daprd. */
export async function idleHops(stack: Stack, auditDb: string): Promise<Record<string, HopTime>> {
  const pg = new Client({ ...PG, database: auditDb });
  await pg.connect();
  const redis = new Redis({ host: '127.0.0.1', port: REDIS_PORT });
  const stream = `hops-${Date.now()}`;
  const [catalog, audit] = [stack.node('catalog'), stack.node('audit')];
  try {
    return {
      'PostgreSQL: the audit insert, straight': await timeCalls((i) => {
        const s = auditInsert(i);
        return pg.query(s?.sql ?? '', s?.params);
      }),
      'Redis: XADD, straight': await timeCalls((i) => redis.xadd(stream, '*', 'i', String(i))),
      'daprd: its health endpoint': await timeCalls(async () => (await fetch(`${audit.daprUrl}/v1.0/healthz`)).text()),
      'daprd → PostgreSQL: the audit insert through the binding': await timeCalls((i) => {
        const s = auditInsert(i);
        return post(`${audit.daprUrl}/v1.0/bindings/audit-db`, {
          operation: 'exec',
          metadata: { sql: s?.sql, params: JSON.stringify(s?.params) },
        });
      }),
      'daprd → Redis: one event published': await timeCalls((i) =>
        post(`${catalog.daprUrl}/v1.0-alpha1/publish/bulk/pubsub/${stack.topic}-hops`, [
          { entryId: '1', event: productCloudEvent(i + 1), contentType: 'application/cloudevents+json' },
        ]),
      ),
      'audit app: GET /healthz, straight': await timeCalls(async () => (await fetch(`${audit.appUrl}/healthz`)).text()),
      'daprd → audit app: GET /healthz through service invocation': await timeCalls(async () =>
        (await fetch(`${audit.daprUrl}/v1.0/invoke/audit/method/healthz`)).text(),
      ),
    };
  } finally {
    await pg.end();
    await redis.del(stream, `${stack.topic}-hops`);
    redis.disconnect();
  }
}
