import { Agent, request } from 'node:http';
import { pgQuery } from '../test/support/sql';
import { percentile } from './stats';

/**
 * Open-loop load: one POST every 1/rate s whatever the answers do (a closed loop would slow down with
 * the system under test and hide its queueing), on keep-alive connections. Cheap on CPU, which the
 * measured processes share on a small machine.
 */
export async function pacedPosts(
  url: string,
  body: string,
  rate: number,
  seconds: number,
): Promise<{ sent: number; achieved: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(url);
  const total = Math.max(1, Math.round(rate * seconds));
  const started = performance.now();
  let errors = 0;
  const post = () =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          if (res.statusCode !== 201) errors++;
          res.resume().on('end', resolve);
        },
      );
      req.on('error', () => (errors++, resolve()));
      req.end(body);
    });
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(post());
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { sent: total, achieved: total / ((performance.now() - started) / 1000), errors };
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** Where an event's time goes, per event, from the timestamps both databases keep. */
export interface Stages {
  events: number;
  /** Event time (in the product's transaction) → claimed by the relay for its publish (outbox published_at). */
  toPublished: Percentiles;
  /** Claimed → published through the sidecar, delivered to the audit route, its insert built (audit recorded_at). */
  toDelivered: Percentiles;
  /** The whole way: event time → audit row (recorded_at − time_stamp). */
  total: Percentiles;
}

const percentiles = (values: number[]): Percentiles => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
};

export async function stages(dbs: { catalog: string; audit: string }, since: Date): Promise<Stages> {
  const outbox = await pgQuery<{ event_id: string; published_at: Date }>(
    dbs.catalog,
    'SELECT event_id, published_at FROM outbox_events WHERE created_at >= $1',
    [since],
  );
  const audit = await pgQuery<{ event_id: string; time_stamp: Date; recorded_at: Date }>(
    dbs.audit,
    'SELECT event_id, time_stamp, recorded_at FROM audit_logs WHERE time_stamp >= $1',
    [since],
  );
  const published = new Map(outbox.map((r) => [r.event_id, r.published_at.getTime()]));
  const toPublished: number[] = [];
  const toDelivered: number[] = [];
  const total: number[] = [];
  for (const row of audit) {
    const at = published.get(row.event_id);
    if (at === undefined) continue;
    toPublished.push(at - row.time_stamp.getTime());
    toDelivered.push(row.recorded_at.getTime() - at);
    total.push(row.recorded_at.getTime() - row.time_stamp.getTime());
  }
  return {
    events: total.length,
    toPublished: percentiles(toPublished),
    toDelivered: percentiles(toDelivered),
    total: percentiles(total),
  };
}

/** Sum and count of one daprd histogram (every label set), from its Prometheus endpoint. */
export async function histogram(metricsUrl: string, name: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const total = (suffix: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}_${suffix}`) && /^[^ {]+(\{[^}]*\})? /.test(l))
      .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { sum: total('sum'), count: total('count') };
}

/** daprd's own per-call figures over a run: the mean of each histogram between two readings. */
export const DAPRD_CALLS = {
  'bulk publish call (catalog daprd → Redis)': {
    app: 'catalog',
    metric: 'dapr_component_pubsub_egress_bulk_latencies',
  },
  'bulk delivery (audit daprd → audit route)': { app: 'audit', metric: 'dapr_component_pubsub_ingress_bulk_latencies' },
  'binding write (audit daprd → PostgreSQL)': { app: 'audit', metric: 'dapr_component_output_binding_latencies' },
} as const;

export async function daprdReadings(
  metricsUrl: (app: 'catalog' | 'audit') => string,
): Promise<Record<string, { sum: number; count: number }>> {
  const out: Record<string, { sum: number; count: number }> = {};
  for (const [label, { app, metric }] of Object.entries(DAPRD_CALLS))
    out[label] = await histogram(metricsUrl(app), metric);
  return out;
}

export function meanBetween(
  before: Record<string, { sum: number; count: number }>,
  after: Record<string, { sum: number; count: number }>,
): Record<string, { calls: number; meanMs: number }> {
  return Object.fromEntries(
    Object.entries(after).map(([k, a]) => {
      const b = before[k] ?? { sum: 0, count: 0 };
      const calls = a.count - b.count;
      return [k, { calls, meanMs: calls ? (a.sum - b.sum) / calls : NaN }];
    }),
  );
}
