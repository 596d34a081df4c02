/**
 * `npm run bench`: what the sidecars cost, on this machine, in one unattended run.
 *   1. POST /api/products through service invocation vs. straight to the app, at a few concurrencies
 *   2. GET /api/products/{id} the same two ways
 *   3. propagation delay from a product's commit to its audit row, per stage (bench/latency.ts), at idle
 *      (10 writes/s) and at 50% and 90% of the sustained write rate, paced open-loop
 *   4. audit drain rate for a backlog of events queued while audit was stopped, next to the raw INSERT
 *      rate against PostgreSQL (the ceiling) and Redis' own stream publish/consume rate
 * Each figure is repeated (BENCH_REPEATS, 3) and reported as median and spread; results go to
 * bench/results/ (JSON and an SVG chart) and the table is printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import pino from 'pino';
import { createSequelize, migrate } from '@portable-dapr/common';
import { interpretProductEvent } from '../audit/src/events/product-events';
import { migrations as auditMigrations } from '../audit/src/migrations';
import { insertAuditLogs } from '../audit/src/sinks/sql';
import { createTestDatabases, runId } from '../test/support/databases';
import { productCloudEvent } from '../test/support/scenario';
import { waitUntil } from '../test/support/wait';
import { auditCounts, pgQuery } from '../test/support/sql';
import { DAPRD_CALLS, daprdReadings, meanBetween, pacedPosts, Stages, stages } from './latency';
import { PROJECT_ROOT } from '../tools/dapr/versions';
import { Stack, startStack } from '../tools/stack';
import { formatTable } from '../tools/table';
import { renderChart } from './chart';
import { median, Series, spread } from './stats';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64').split(',').map(Number);
const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 20_000);
const PROPAGATION_SECONDS = Number(process.env.BENCH_PROPAGATION_SECONDS ?? 8);
const IDLE_RATE = 10;
const RESULTS = join(PROJECT_ROOT, 'bench', 'results');

const log = (m: string) => process.stdout.write(`[bench] ${m}\n`);
const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)}`;

interface HttpFigure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(
  url: string,
  method: 'GET' | 'POST',
  connections: number,
  opts: { seconds?: number; rate?: number } = {},
): Promise<HttpFigure> {
  const result = await autocannon({
    url,
    method,
    connections,
    duration: opts.seconds ?? SECONDS,
    overallRate: opts.rate,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: method === 'POST' ? JSON.stringify({ name: 'Bench pen', type: 'Office', price: 2.5 }) : undefined,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** Sidecar vs direct, alternating which goes first, REPEATS times. */
async function compare(
  stack: Stack,
  method: 'GET' | 'POST',
  path: string,
  connections: number,
): Promise<{ sidecar: HttpFigure[]; direct: HttpFigure[] }> {
  const catalog = stack.node('catalog');
  const urls = { sidecar: `${catalog.daprUrl}/v1.0/invoke/catalog/method${path}`, direct: `${catalog.appUrl}${path}` };
  const out = { sidecar: [] as HttpFigure[], direct: [] as HttpFigure[] };
  for (let r = 0; r < REPEATS; r++) {
    for (const way of r % 2 ? (['direct', 'sidecar'] as const) : (['sidecar', 'direct'] as const))
      out[way].push(await load(urls[way], method, connections));
  }
  return out;
}

interface Propagation {
  stages: Stages;
  achieved: number;
  errors: number;
  daprd: Record<string, { calls: number; meanMs: number }>;
}

/** Writes at a fixed pace for a while, waits for every event's audit row, and reads where the time went. */
async function propagation(stack: Stack, dbs: { catalog: string; audit: string }, rate: number): Promise<Propagation> {
  const since = new Date();
  const metrics = (app: 'catalog' | 'audit') => `http://127.0.0.1:${stack.node(app).spec.metricsPort}/metrics`;
  const before = await daprdReadings(metrics);
  const rowsBefore = (await auditCounts(dbs.audit)).rows;
  const url = `${stack.node('catalog').daprUrl}/v1.0/invoke/catalog/method/api/products`;
  const load = await pacedPosts(
    url,
    JSON.stringify({ name: 'Bench pen', type: 'Office', price: 2.5 }),
    rate,
    PROPAGATION_SECONDS,
  );
  const [{ n }] = (await pgQuery<{ n: string }>(
    dbs.catalog,
    'SELECT count(*) AS n FROM outbox_events WHERE created_at >= $1',
    [since],
  )) as [{ n: string }];
  await waitUntil(
    'the audit to catch up',
    async () => ((await auditCounts(dbs.audit)).rows >= rowsBefore + Number(n) ? true : undefined),
    120_000,
    50,
  );
  return { stages: await stages(dbs, since), ...load, daprd: meanBetween(before, await daprdReadings(metrics)) };
}

/** A bulk publish entry carrying a complete product CloudEvent. */
const backlogEntry = (productId: number) => {
  const event = productCloudEvent(productId, { name: `Backlog ${productId}` });
  return { entryId: event.id, contentType: 'application/cloudevents+json', event };
};

/** Queues `count` events while audit is stopped, starts it, and measures how fast the backlog drains. */
async function drain(
  stack: Stack,
  dbs: { audit: string },
  count: number,
  firstId: number,
): Promise<{ rate: number; withStart: number }> {
  const audit = stack.node('audit');
  await audit.stop();
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
  const before = (await auditCounts(dbs.audit)).rows;
  const started = new Date();
  await audit.start();
  await waitUntil(
    'the backlog to drain',
    async () => ((await auditCounts(dbs.audit)).rows >= before + count ? true : undefined),
    600_000,
    100,
  );
  // The drain itself: from the first row of the backlog to its last (audit's own start-up left out).
  const [span] = (await pgQuery<{ first: Date; last: Date }>(
    dbs.audit,
    'SELECT min(recorded_at) AS first, max(recorded_at) AS last FROM audit_logs WHERE recorded_at >= $1',
    [started],
  )) as [{ first: Date; last: Date }];
  const seconds = Math.max(0.001, (span.last.getTime() - span.first.getTime()) / 1000);
  return { rate: count / seconds, withStart: count / ((span.last.getTime() - started.getTime()) / 1000) };
}

/**
 * The ceiling: the very INSERT the binding runs (rendered by the audit service's own statement builder),
 * on the audit schema (its own migrations), straight from a client, 10 at a time (the consumer's concurrency).
 */
async function rawInsertRate(count: number, rowsPerStatement: number): Promise<number> {
  const dbs = await createTestDatabases('postgres', ['raw'], 'bench');
  const pool = new Pool({ host: '127.0.0.1', user: 'postgres', database: dbs.names.raw, max: 10 });
  pool.on('error', () => undefined); // idle clients cut when the database is dropped
  try {
    const silent = pino({ level: 'silent' });
    // Two connections: the migration lock holds one while the migrations run on the other.
    const sequelize = createSequelize(
      {
        dialect: 'postgres',
        host: '127.0.0.1',
        port: 5432,
        user: 'postgres',
        database: dbs.names.raw,
        poolMax: 2,
        ssl: false,
      },
      silent,
    );
    await migrate(sequelize, auditMigrations, silent).finally(() => sequelize.close());
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

function httpSeries(label: string, r: { sidecar: HttpFigure[]; direct: HttpFigure[] }): Series[] {
  return [
    { name: `${label} via sidecar req/s`, unit: 'req/s', values: r.sidecar.map((f) => f.rps) },
    { name: `${label} direct req/s`, unit: 'req/s', values: r.direct.map((f) => f.rps) },
    { name: `${label} via sidecar p50`, unit: 'ms', values: r.sidecar.map((f) => f.p50) },
    { name: `${label} direct p50`, unit: 'ms', values: r.direct.map((f) => f.p50) },
    { name: `${label} via sidecar p99`, unit: 'ms', values: r.sidecar.map((f) => f.p99) },
    { name: `${label} direct p99`, unit: 'ms', values: r.direct.map((f) => f.p99) },
  ];
}

// ---- measure ------------------------------------------------------------------------------------

/** Sidecar vs direct for one request at one concurrency. */
interface HttpComparison {
  method: 'GET' | 'POST';
  path: string;
  concurrency: number;
  runs: { sidecar: HttpFigure[]; direct: HttpFigure[] };
}

/** Propagation at one write rate. */
interface PropagationLevel {
  name: string;
  rate: number;
  runs: Propagation[];
}

/** The audit drain and the ceilings beside it, one value per repeat. */
interface DrainFigures {
  drains: number[];
  drainsWithStart: number[];
  rawSingle: number[];
  rawBatch: number[];
  redis: { publish: number; consume: number }[];
}

interface Measured {
  http: HttpComparison[];
  propagation: PropagationLevel[];
  drain: DrainFigures;
}

/** Steps 1 to 3 of the header, on a running stack. */
async function measure(stack: Stack, dbs: { catalog: string; audit: string }): Promise<Measured> {
  const http = await measureHttp(stack);
  const maxWrite = Math.max(
    0,
    ...http.filter((h) => h.method === 'POST').map((h) => median(h.runs.sidecar.map((f) => f.rps))),
  );
  // The HTTP runs above left many published outbox rows and audit rows behind: let the planner see them.
  await pgQuery(dbs.catalog, 'VACUUM ANALYZE outbox_events');
  await pgQuery(dbs.audit, 'VACUUM ANALYZE audit_logs');
  const propagation = await measurePropagation(stack, dbs, maxWrite);
  const drain = await measureDrain(stack, dbs);
  return { http, propagation, drain };
}

/** Step 1 and 2: POST and GET, sidecar vs direct, at each concurrency (after a warm-up). */
async function measureHttp(stack: Stack): Promise<HttpComparison[]> {
  log('warming up');
  await load(`${stack.node('catalog').daprUrl}/v1.0/invoke/catalog/method/api/products`, 'POST', 16, { seconds: 2 });
  await load(`${stack.node('catalog').appUrl}/api/products`, 'POST', 16, { seconds: 2 });
  const created = (await (
    await stack.invoke('catalog', 'POST', '/api/products', { body: { name: 'Read me', type: 'T', price: 1 } })
  ).json()) as { id: number };
  const out: HttpComparison[] = [];
  for (const [method, path] of [
    ['POST', '/api/products'],
    ['GET', `/api/products/${created.id}`],
  ] as const) {
    for (const concurrency of CONCURRENCY) {
      log(`${method} ${path} at concurrency ${concurrency}`);
      out.push({ method, path, concurrency, runs: await compare(stack, method, path, concurrency) });
    }
  }
  return out;
}

/** Step 3: propagation at idle and at 50% and 90% of the highest write rate. */
async function measurePropagation(
  stack: Stack,
  dbs: { catalog: string; audit: string },
  maxWrite: number,
): Promise<PropagationLevel[]> {
  log(`propagation delay at idle (${IDLE_RATE}/s) and at 50% and 90% of ${maxWrite.toFixed(0)} writes/s`);
  const levels: PropagationLevel[] = [];
  for (const [name, rate] of [
    ['idle', IDLE_RATE],
    ['50%', Math.max(1, Math.round(maxWrite * 0.5))],
    ['90%', Math.max(1, Math.round(maxWrite * 0.9))],
  ] as const) {
    const runs: Propagation[] = [];
    for (let r = 0; r < REPEATS; r++) runs.push(await propagation(stack, dbs, rate));
    levels.push({ name, rate, runs });
  }
  return levels;
}

/** Step 4: the audit drain, then the raw INSERT and Redis rates. */
async function measureDrain(stack: Stack, dbs: { audit: string }): Promise<DrainFigures> {
  log(`audit drain: ${DRAIN_EVENTS} events queued while audit is stopped`);
  const drainRuns: { rate: number; withStart: number }[] = [];
  for (let r = 0; r < REPEATS; r++) drainRuns.push(await drain(stack, dbs, DRAIN_EVENTS, 1_000_000 * (r + 1)));
  log('raw INSERT rate against PostgreSQL, and Redis stream rates');
  const figures: DrainFigures = {
    drains: drainRuns.map((d) => d.rate),
    drainsWithStart: drainRuns.map((d) => d.withStart),
    rawSingle: [],
    rawBatch: [],
    redis: [],
  };
  for (let r = 0; r < REPEATS; r++) {
    figures.rawSingle.push(await rawInsertRate(DRAIN_EVENTS, 1));
    figures.rawBatch.push(await rawInsertRate(DRAIN_EVENTS, 100));
    figures.redis.push(redisRates(DRAIN_EVENTS));
  }
  return figures;
}

// ---- summarise ----------------------------------------------------------------------------------

/** `median (min–max)` of one figure over runs. */
const summary = <T>(runs: T[], pick: (run: T) => number, digits = 1) =>
  `${median(runs.map(pick)).toFixed(digits)} (${spread(runs.map(pick))})`;

function httpRows(http: HttpComparison[]): string[][] {
  return http.map(({ method, path, concurrency, runs }) => {
    const medians = (figures: HttpFigure[]) => ({
      rps: median(figures.map((f) => f.rps)),
      p50: median(figures.map((f) => f.p50)),
      p99: median(figures.map((f) => f.p99)),
    });
    const [s, d] = [medians(runs.sidecar), medians(runs.direct)];
    return [
      `${method} ${method === 'GET' ? '/api/products/{id}' : path}`,
      String(concurrency),
      `${s.rps.toFixed(0)} (${spread(runs.sidecar.map((f) => f.rps))})`,
      `${d.rps.toFixed(0)} (${spread(runs.direct.map((f) => f.rps))})`,
      `${(s.rps / d.rps).toFixed(2)}`,
      `${s.p50.toFixed(1)} / ${d.p50.toFixed(1)} (${signed(s.p50 - d.p50)})`,
      `${s.p99.toFixed(1)} / ${d.p99.toFixed(1)} (${signed(s.p99 - d.p99)})`,
    ];
  });
}

/** The load of a propagation level as its rows name it. */
const levelLabel = ({ name, rate, runs }: PropagationLevel) =>
  `${name} (${rate}/s, achieved ${median(runs.map((x) => x.achieved)).toFixed(0)}/s)`;

function propagationRows(levels: PropagationLevel[]): string[][] {
  return levels.map((level) => [
    levelLabel(level),
    summary(level.runs, (x) => x.stages.total.p50),
    summary(level.runs, (x) => x.stages.total.p95),
    summary(level.runs, (x) => x.stages.total.p99),
  ]);
}

function stageRows(levels: PropagationLevel[]): string[][] {
  return levels.map((level) => [
    levelLabel(level),
    `${summary(level.runs, (x) => x.stages.toPublished.p50)} / ${summary(level.runs, (x) => x.stages.toPublished.p99)}`,
    `${summary(level.runs, (x) => x.stages.toDelivered.p50)} / ${summary(level.runs, (x) => x.stages.toDelivered.p99)}`,
  ]);
}

function daprdCallRows(levels: PropagationLevel[]): string[][] {
  return levels.map((level) => [
    levelLabel(level),
    ...Object.keys(DAPRD_CALLS).map((c) => {
      const call = (x: Propagation) => x.daprd[c] ?? { meanMs: NaN, calls: NaN };
      return `${median(level.runs.map((x) => call(x).meanMs)).toFixed(1)} ms × ${median(level.runs.map((x) => call(x).calls)).toFixed(0)}`;
    }),
  ]);
}

function drainRows({ drains, drainsWithStart, rawSingle, rawBatch, redis }: DrainFigures): string[][] {
  const drainMedian = median(drains);
  const [publish, consume] = [redis.map((x) => x.publish), redis.map((x) => x.consume)];
  const row = (label: string, values: number[]) => [
    label,
    summary(values, (v) => v, 0),
    (drainMedian / median(values)).toFixed(2),
  ];
  return [
    ['audit drain, first → last row (events/s)', summary(drains, (v) => v, 0), '1.00'],
    row('audit drain, from audit start (events/s)', drainsWithStart),
    row('raw INSERT, 1 row per statement, 10 connections', rawSingle),
    row('raw INSERT, 100 rows per statement, 10 connections', rawBatch),
    row('Redis XADD (publish)', publish),
    row('Redis XREADGROUP (consume)', consume),
  ];
}

/** Every measured series, for the chart and the JSON. */
function seriesOf({ http, propagation, drain }: Measured): Series[] {
  return [
    ...http.flatMap((h) => httpSeries(`${h.method} c=${h.concurrency}`, h.runs)),
    ...propagation.flatMap(({ name, runs }) => [
      { name: `propagation p50 @${name}`, unit: 'ms', values: runs.map((x) => x.stages.total.p50) },
      { name: `propagation p99 @${name}`, unit: 'ms', values: runs.map((x) => x.stages.total.p99) },
    ]),
    { name: 'audit drain', unit: 'events/s', values: drain.drains },
    { name: 'raw INSERT, 1 row/statement', unit: 'rows/s', values: drain.rawSingle },
    { name: 'raw INSERT, 100 rows/statement', unit: 'rows/s', values: drain.rawBatch },
    { name: 'Redis XADD', unit: 'msgs/s', values: drain.redis.map((x) => x.publish) },
    { name: 'Redis XREADGROUP', unit: 'msgs/s', values: drain.redis.map((x) => x.consume) },
  ];
}

// ---- render -------------------------------------------------------------------------------------

function renderReport(measured: Measured): string {
  const levels = measured.propagation;
  return [
    `Benchmark ${new Date().toISOString()} — ${cpus().length} CPUs, medians of ${REPEATS} runs (min–max)`,
    '',
    formatTable(
      [
        'request',
        'conc.',
        'via sidecar req/s',
        'direct req/s',
        'ratio',
        'p50 ms sidecar / direct (+cost)',
        'p99 ms sidecar / direct (+cost)',
      ],
      httpRows(measured.http),
    ),
    '',
    formatTable(['propagation, commit → audit row', 'p50 ms', 'p95 ms', 'p99 ms'], propagationRows(levels)),
    '',
    formatTable(
      [
        'stages per event',
        'commit → relay claim, p50 / p99 ms',
        'claim → published → delivered to audit, p50 / p99 ms',
      ],
      stageRows(levels),
    ),
    '',
    formatTable(['daprd per call (mean × calls)', ...Object.keys(DAPRD_CALLS)], daprdCallRows(levels)),
    '',
    formatTable(['drain and ceilings', 'rate', 'drain ÷ this'], drainRows(measured.drain)),
  ].join('\n');
}

/** bench/results/latest.{json,md,svg}: every run's figures, the tables, the chart. */
async function writeResults(at: string, measured: Measured, report: string): Promise<void> {
  const series = seriesOf(measured);
  const json = {
    at,
    cpus: cpus().length,
    repeats: REPEATS,
    secondsPerRun: SECONDS,
    drainEvents: DRAIN_EVENTS,
    ...Object.fromEntries(measured.http.map((h) => [`${h.method} c=${h.concurrency}`, h.runs])),
    ...Object.fromEntries(measured.propagation.map((p) => [`propagation ${p.name}`, p.runs])),
    drain: measured.drain,
    series,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(json, null, 2));
  writeFileSync(join(RESULTS, 'latest.md'), `${report}\n`);
  writeFileSync(join(RESULTS, 'latest.svg'), await renderChart(series));
}

async function main(): Promise<void> {
  const started = Date.now();
  log(
    `${cpus().length} CPUs, ${REPEATS} repeats, ${SECONDS} s per HTTP run, concurrency ${CONCURRENCY.join('/')}, drain ${DRAIN_EVENTS} events`,
  );
  const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'bench');
  const stack = await startStack({
    ports: 'free',
    databases: dbs.names,
    topic: `products-${runId()}`,
    appEnv: { catalog: { LOG_LEVEL: 'warn' }, audit: { LOG_LEVEL: 'warn' } },
  });
  const at = new Date().toISOString();
  try {
    const measured = await measure(stack, dbs.names);
    const report = renderReport(measured);
    await writeResults(at, measured, report);
    process.stdout.write(`\n${report}\n\n`);
    log(`results in bench/results/latest.{md,json,svg}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await stack.stop();
    await dbs.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
