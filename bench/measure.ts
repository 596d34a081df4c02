/**
 * The measuring half of `npm run bench` (bench/run.ts summarises and renders): every step runs on our
 * stack and, where the raw pipeline does the same work, on it too, in the same run, on the same servers.
 */
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import { interpretProductEvent } from '../audit/src/events/product-events';
import { migrations as auditMigrations } from '../audit/src/migrations';
import { insertAuditLogs } from '../audit/src/sinks/sql';
import { createTestDatabases, runId } from '../test/support/databases';
import { productCloudEvent } from '../test/support/scenario';
import { pgQuery } from '../test/support/sql';
import type { Stack } from '../tools/stack';
import { Classifier, withCpu } from './cpu';
import { daprdReadings, meanBetween, pacedPosts, Stages, stages } from './latency';
import { migrateDatabase, PG, RawPipeline } from './raw/pipeline';
import { median } from './stats';
import { AuditWatch, settle, Subject } from './subjects';

export const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
export const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
export const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 20_000);
const PROPAGATION_SECONDS = Number(process.env.BENCH_PROPAGATION_SECONDS ?? 8);
const IDLE_RATE = 10;
/** The CPU step's pace, as a share of our highest write rate through the sidecar. */
const CPU_LOAD = 0.5;
export const BODY = JSON.stringify({ name: 'Bench pen', type: 'Office', price: 2.5 });

export const log = (m: string) => process.stdout.write(`[bench] ${m}\n`);

export interface HttpFigure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU milliseconds per process group during the run. */
  cpuMs: Record<string, number>;
}

async function load(
  url: string,
  method: 'GET' | 'POST',
  connections: number,
  processes: Classifier[],
  seconds = SECONDS,
): Promise<HttpFigure> {
  const { result, cpuMs } = await withCpu(processes, () =>
    autocannon({
      url,
      method,
      connections,
      duration: seconds,
      headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
      body: method === 'POST' ? BODY : undefined,
    }),
  );
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    cpuMs,
  };
}

type Way = 'sidecar' | 'direct' | 'raw';
export type HttpRuns = Record<Way, HttpFigure[]>;

/**
 * Through the sidecar, straight to the app and (POST only) the raw pipeline, REPEATS times, the order
 * turning each time. After each POST run its events are left to reach the audit table first, so no run's
 * backlog takes CPU from the next.
 */
async function compare(
  stack: Stack,
  subjects: { ours: Subject; raw: Subject; rawUrl: string },
  method: 'GET' | 'POST',
  path: string,
  connections: number,
): Promise<HttpRuns> {
  const catalog = stack.node('catalog');
  const urls: Record<Way, string> = {
    sidecar: `${catalog.daprUrl}/v1.0/invoke/catalog/method${path}`,
    direct: `${catalog.appUrl}${path}`,
    raw: `${subjects.rawUrl}${path}`,
  };
  const ways: Way[] = method === 'POST' ? ['sidecar', 'direct', 'raw'] : ['sidecar', 'direct'];
  const out: HttpRuns = { sidecar: [], direct: [], raw: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const way of [...ways.slice(r % ways.length), ...ways.slice(0, r % ways.length)]) {
      const subject = way === 'raw' ? subjects.raw : subjects.ours;
      out[way].push(await load(urls[way], method, connections, subject.processes()));
      if (method === 'POST') await settle(subject);
    }
  }
  return out;
}

export interface Propagation {
  stages: Stages;
  achieved: number;
  errors: number;
  /** Audit rows of the run: the products created and audited. */
  products: number;
  cpuMs: Record<string, number>;
  daprd: Record<string, { calls: number; meanMs: number }>;
}

/**
 * Writes at a fixed pace for a while and waits for every event's audit row, counting the CPU each process
 * used from the first write to the last row; then reads where each event's time went.
 */
async function propagation(subject: Subject, rate: number): Promise<Propagation> {
  const watch = await AuditWatch.open(subject.dbs.audit);
  try {
    const since = new Date();
    const metricsUrl = subject.metricsUrl;
    const before = metricsUrl ? await daprdReadings(metricsUrl) : undefined;
    const lastId = await watch.lastId();
    const { result, cpuMs } = await withCpu(subject.processes(new Set([watch.backendPid])), async () => {
      const { sent, ...load } = await pacedPosts(subject.writeUrl, BODY, rate, PROPAGATION_SECONDS);
      await watch.waitForRows(lastId, sent - load.errors, `${subject.name}: the audit to catch up`, 120_000, 50);
      return load;
    });
    const daprd = metricsUrl && before ? meanBetween(before, await daprdReadings(metricsUrl)) : {};
    const products = await watch.countAfter(lastId);
    return { stages: await stages(subject.dbs, since), ...result, products, cpuMs, daprd };
  } finally {
    await watch.close();
  }
}

export interface DrainRun {
  /** Events per second from the backlog's first audit row to its last. */
  rate: number;
  /** The same from the consumer's start, its start-up included. */
  withStart: number;
  /** CPU per process from the first row to the last. */
  cpuMs: Record<string, number>;
}

/** Waits for a backlog of `count` events to drain, counting CPU from its first audit row to its last. */
async function drainSpan(
  subject: Subject,
  watch: AuditWatch,
  lastId: number,
  count: number,
  started: Date,
): Promise<DrainRun> {
  await watch.waitForRows(lastId, 1, 'the first backlog row', 600_000, 10);
  const { cpuMs } = await withCpu(subject.processes(new Set([watch.backendPid])), () =>
    watch.waitForRows(lastId, count, 'the backlog to drain', 600_000, 50),
  );
  const [span] = await pgQuery<{ first: Date; last: Date }>(
    subject.dbs.audit,
    'SELECT min(recorded_at) AS first, max(recorded_at) AS last FROM audit_logs WHERE id > $1',
    [lastId],
  );
  if (!span) throw new Error('no backlog rows');
  const seconds = Math.max(0.001, (span.last.getTime() - span.first.getTime()) / 1000);
  return { rate: count / seconds, withStart: count / ((span.last.getTime() - started.getTime()) / 1000), cpuMs };
}

/** A bulk publish entry carrying a complete product CloudEvent. */
const backlogEntry = (productId: number) => {
  const event = productCloudEvent(productId, { name: `Backlog ${productId}` });
  return { entryId: event.id, contentType: 'application/cloudevents+json', event };
};

/** Publishes `count` product events through the catalog's sidecar (bulk calls of 1,000): a backlog for audit. */
export async function queueBacklog(stack: Stack, count: number, firstId: number): Promise<void> {
  const catalogSidecar = stack.node('catalog').daprUrl;
  for (let i = 0; i < count; i += 1000) {
    const entries = Array.from({ length: Math.min(1000, count - i) }, (_, k) => backlogEntry(firstId + i + k));
    const res = await fetch(`${catalogSidecar}/v1.0-alpha1/publish/bulk/pubsub/${stack.topic}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(entries),
    });
    if (res.status !== 204) throw new Error(`bulk publish: ${res.status} ${await res.text()}`);
  }
}

/** What a drain stops, fills and starts again: a pipeline's consumer and its queue. */
interface Consumer {
  stop(): Promise<void>;
  queue(count: number, firstId: number): Promise<void>;
  start(): Promise<void> | void;
}

/** Queues `count` events while the consumer is stopped, starts it, and measures how fast the backlog drains. */
async function drain(subject: Subject, consumer: Consumer, count: number, firstId: number): Promise<DrainRun> {
  await consumer.stop();
  await consumer.queue(count, firstId);
  const watch = await AuditWatch.open(subject.dbs.audit);
  try {
    const lastId = await watch.lastId();
    const started = new Date();
    await consumer.start();
    return await drainSpan(subject, watch, lastId, count, started);
  } finally {
    await watch.close();
  }
}

/**
 * The ceiling: the very INSERT the binding runs (rendered by the audit service's own statement builder),
 * on the audit schema (its own migrations), straight from a client, 10 at a time (the consumer's concurrency).
 */
async function rawInsertRate(count: number, rowsPerStatement: number): Promise<number> {
  const dbs = await createTestDatabases('postgres', ['raw'], 'bench');
  const pool = new Pool({ ...PG, database: dbs.names.raw, max: 10 });
  pool.on('error', () => undefined); // idle clients cut when the database is dropped
  try {
    await migrateDatabase(dbs.names.raw, auditMigrations);
    const statements = Math.ceil(count / rowsPerStatement);
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < statements) {
          next++;
          const rows = Array.from({ length: rowsPerStatement }, (_, k) => {
            const result = interpretProductEvent(productCloudEvent(k + 1));
            if (!result.ok) throw new Error(result.reason);
            return result.row;
          });
          for (const { sql, params } of insertAuditLogs('postgresql', rows)) await pool.query(sql, params);
        }
      }),
    );
    return (statements * rowsPerStatement) / ((Date.now() - started) / 1000);
  } finally {
    await pool.end();
    await dbs.drop();
  }
}

/** Redis' own stream rates for an event-sized message: XADD, and XREADGROUP one at a time. */
function redisRates(count: number): { publish: number; consume: number } {
  const stream = `bench-raw-${runId()}`;
  const payload = JSON.stringify(productCloudEvent(1));
  const rps = (args: string[]) => {
    const out = execFileSync('redis-benchmark', [
      '-h',
      '127.0.0.1',
      '-p',
      '6379',
      '-n',
      String(count),
      '-c',
      '10',
      '-q',
      ...args,
    ]).toString();
    return Number(/([\d.]+) requests per second/.exec(out)?.[1] ?? NaN);
  };
  try {
    execFileSync('redis-cli', ['XGROUP', 'CREATE', stream, 'bench', '0', 'MKSTREAM']);
    const publish = rps(['XADD', stream, '*', 'data', payload]);
    const consume = rps(['XREADGROUP', 'GROUP', 'bench', 'c1', 'COUNT', '1', 'STREAMS', stream, '>']);
    return { publish, consume };
  } finally {
    execFileSync('redis-cli', ['DEL', stream]);
  }
}

// ---- the steps ----------------------------------------------------------------------------------

/** One request at one concurrency, every way. */
export interface HttpComparison {
  method: 'GET' | 'POST';
  path: string;
  concurrency: number;
  runs: HttpRuns;
}

/** Propagation at one write rate. */
export interface PropagationLevel {
  name: string;
  rate: number;
  runs: Propagation[];
}

/** The drains and the ceilings beside them, one value per repeat. */
export interface DrainFigures {
  ours: DrainRun[];
  raw: DrainRun[];
  rawSingle: number[];
  rawBatch: number[];
  redis: { publish: number; consume: number }[];
}

export interface Measured {
  http: HttpComparison[];
  propagation: { ours: PropagationLevel[]; raw: PropagationLevel[] };
  /** Both pipelines at one pace (CPU_LOAD of our highest write rate), alternately: the CPU per product. */
  cpu: { rate: number; ours: Propagation[]; raw: Propagation[] };
  drain: DrainFigures;
}

export interface Subjects {
  stack: Stack;
  raw: RawPipeline;
  ours: Subject;
  rawSubject: Subject;
}

/** The highest of the per-concurrency medians of POST req/s one way. */
export function peakWriteRate(http: HttpComparison[], way: Way): number {
  return Math.max(0, ...http.filter((h) => h.method === 'POST').map((h) => median(h.runs[way].map((f) => f.rps))));
}

/** Every step of the header of bench/run.ts, on both pipelines. */
export async function measure(s: Subjects): Promise<Measured> {
  const http = await measureHttp(s);
  // The HTTP runs left many published outbox rows and audit rows behind: let the planner see them.
  for (const { dbs } of [s.ours, s.rawSubject]) {
    await pgQuery(dbs.catalog, 'VACUUM ANALYZE outbox_events');
    await pgQuery(dbs.audit, 'VACUUM ANALYZE audit_logs');
  }
  const propagation = {
    ours: await measurePropagation(s.ours, peakWriteRate(http, 'sidecar')),
    raw: await measurePropagation(s.rawSubject, peakWriteRate(http, 'raw')),
  };
  const cpu = await measureCpu(s, Math.max(1, Math.round(peakWriteRate(http, 'sidecar') * CPU_LOAD)));
  const drain = await measureDrain(s);
  return { http, propagation, cpu, drain };
}

/** POST (three ways) and GET (two), at each concurrency, after a warm-up. */
async function measureHttp(s: Subjects): Promise<HttpComparison[]> {
  log('warming up');
  for (const url of [s.ours.writeUrl, `${s.stack.node('catalog').appUrl}/api/products`, s.raw.writeUrl])
    await load(url, 'POST', 16, [], 2);
  await settle(s.ours);
  await settle(s.rawSubject);
  const created = (await (
    await s.stack.invoke('catalog', 'POST', '/api/products', { body: { name: 'Read me', type: 'T', price: 1 } })
  ).json()) as { id: number };
  const out: HttpComparison[] = [];
  for (const [method, path] of [
    ['POST', '/api/products'],
    ['GET', `/api/products/${created.id}`],
  ] as const) {
    for (const concurrency of CONCURRENCY) {
      log(`${method} ${path} at concurrency ${concurrency}`);
      const runs = await compare(
        s.stack,
        { ours: s.ours, raw: s.rawSubject, rawUrl: s.raw.url },
        method,
        path,
        concurrency,
      );
      out.push({ method, path, concurrency, runs });
    }
  }
  return out;
}

/** Propagation at idle and at 50% and 90% of the pipeline's own highest write rate. */
async function measurePropagation(subject: Subject, maxWrite: number): Promise<PropagationLevel[]> {
  log(`${subject.name}: propagation at idle (${IDLE_RATE}/s) and at 50% and 90% of ${maxWrite.toFixed(0)} writes/s`);
  const levels: PropagationLevel[] = [];
  for (const [name, rate] of [
    ['idle', IDLE_RATE],
    ['50%', Math.max(1, Math.round(maxWrite * 0.5))],
    ['90%', Math.max(1, Math.round(maxWrite * 0.9))],
  ] as const) {
    const runs: Propagation[] = [];
    for (let r = 0; r < REPEATS; r++) runs.push(await propagation(subject, rate));
    levels.push({ name, rate, runs });
  }
  return levels;
}

/** Both pipelines at the same pace, alternately, REPEATS times each: CPU per product created and audited. */
async function measureCpu(s: Subjects, rate: number): Promise<Measured['cpu']> {
  log(`CPU per product: both pipelines at ${rate} writes/s for ${PROPAGATION_SECONDS} s, alternately`);
  const out: Measured['cpu'] = { rate, ours: [], raw: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const subject of r % 2 ? [s.rawSubject, s.ours] : [s.ours, s.rawSubject])
      out[subject.name].push(await propagation(subject, rate));
  }
  return out;
}

/** The drains (ours, then the raw pipeline's), then the INSERT and Redis ceilings. */
async function measureDrain(s: Subjects): Promise<DrainFigures> {
  log(`drain: ${DRAIN_EVENTS} events queued while the consumer is stopped, ours and raw`);
  const figures: DrainFigures = { ours: [], raw: [], rawSingle: [], rawBatch: [], redis: [] };
  // Ours: audit and its sidecar stopped, the backlog published through the catalog's sidecar.
  const audit = s.stack.node('audit');
  const ours: Consumer = {
    stop: () => audit.stop(),
    queue: (count, firstId) => queueBacklog(s.stack, count, firstId),
    start: () => audit.start(),
  };
  const raw: Consumer = {
    stop: () => s.raw.consumer.stop(),
    queue: (count, firstId) => s.raw.queue(count, firstId),
    start: () => s.raw.consumer.start(),
  };
  for (let r = 0; r < REPEATS; r++) figures.ours.push(await drain(s.ours, ours, DRAIN_EVENTS, 1_000_000 * (r + 1)));
  for (let r = 0; r < REPEATS; r++) figures.raw.push(await drain(s.rawSubject, raw, DRAIN_EVENTS, 1_000_000 * (r + 1)));
  log('INSERT rate straight into PostgreSQL, and Redis stream rates');
  for (let r = 0; r < REPEATS; r++) {
    figures.rawSingle.push(await rawInsertRate(DRAIN_EVENTS, 1));
    figures.rawBatch.push(await rawInsertRate(DRAIN_EVENTS, 100));
    figures.redis.push(redisRates(DRAIN_EVENTS));
  }
  return figures;
}
