/**
 * `npm run bench`: what the sidecars and our frameworks cost, on this machine, in one unattended run,
 * as ratios to the raw pipeline (bench/raw: the same work by hand, without Dapr, on the same servers).
 *   1. POST /api/products through service invocation, straight to the app, and to the raw pipeline's
 *      writer, at a few concurrencies; GET /api/products/{id} the first two ways
 *   2. propagation delay from a product's commit to its audit row, per stage (bench/latency.ts), at idle
 *      (10 writes/s) and at 50% and 90% of each pipeline's own write rate, paced open-loop
 *   3. CPU per product created and audited, per process (bench/cpu.ts), both pipelines at the same pace
 *   4. drain rate of a backlog queued while the consumer was stopped, for both, next to the INSERT rate
 *      straight into PostgreSQL and Redis' own stream publish/consume rate
 * Each figure is repeated (BENCH_REPEATS, 3) and reported as median and spread; bench/measure.ts measures,
 * this file summarises and renders; results go to bench/results/ (JSON and an SVG chart) and are printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createTestDatabases, runId } from '../test/support/databases';
import { PROJECT_ROOT } from '../tools/dapr/versions';
import { startStack } from '../tools/stack';
import { formatTable } from '../tools/table';
import { renderChart } from './chart';
import { DAPRD_CALLS } from './latency';
import {
  CONCURRENCY,
  DRAIN_EVENTS,
  DrainFigures,
  HttpComparison,
  HttpFigure,
  log,
  measure,
  Measured,
  Propagation,
  PropagationLevel,
  REPEATS,
  SECONDS,
} from './measure';
import { cpuByProcess, cpuTable, perProduct, ratioFigures, RatioFigure, ratiosJson, ratioTable } from './ratios';
import { RawPipeline } from './raw/pipeline';
import { median, Series, spread } from './stats';
import { findServers, oursSubject, rawSubject } from './subjects';

const RESULTS = join(PROJECT_ROOT, 'bench', 'results');

const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)}`;

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
    const [s, d, r] = [medians(runs.sidecar), medians(runs.direct), medians(runs.raw)];
    const rps = (figures: HttpFigure[], m: number) =>
      figures.length ? `${m.toFixed(0)} (${spread(figures.map((f) => f.rps))})` : '—';
    return [
      `${method} ${method === 'GET' ? '/api/products/{id}' : path}`,
      String(concurrency),
      rps(runs.sidecar, s.rps),
      rps(runs.direct, d.rps),
      rps(runs.raw, r.rps),
      `${(s.rps / d.rps).toFixed(2)}`,
      runs.raw.length ? `${(s.rps / r.rps).toFixed(2)} / ${(d.rps / r.rps).toFixed(2)}` : '—',
      `${s.p50.toFixed(1)} / ${d.p50.toFixed(1)} (${signed(s.p50 - d.p50)})`,
      `${s.p99.toFixed(1)} / ${d.p99.toFixed(1)} (${signed(s.p99 - d.p99)})`,
    ];
  });
}

/** The load of a propagation level as its rows name it. */
const levelLabel = ({ name, rate, runs }: PropagationLevel, side = '') =>
  `${side}${name} (${rate}/s, achieved ${median(runs.map((x) => x.achieved)).toFixed(0)}/s)`;

function propagationRows({ ours, raw }: Measured['propagation']): string[][] {
  const row = (side: string) => (level: PropagationLevel) => [
    levelLabel(level, side),
    summary(level.runs, (x) => x.stages.total.p50),
    summary(level.runs, (x) => x.stages.total.p95),
    summary(level.runs, (x) => x.stages.total.p99),
  ];
  return [...ours.map(row('')), ...raw.map(row('raw: '))];
}

function stageRows({ ours, raw }: Measured['propagation']): string[][] {
  const row = (side: string) => (level: PropagationLevel) => [
    levelLabel(level, side),
    `${summary(level.runs, (x) => x.stages.toPublished.p50)} / ${summary(level.runs, (x) => x.stages.toPublished.p99)}`,
    `${summary(level.runs, (x) => x.stages.toDelivered.p50)} / ${summary(level.runs, (x) => x.stages.toDelivered.p99)}`,
  ];
  return [...ours.map(row('')), ...raw.map(row('raw: '))];
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

function drainRows({ ours, raw, rawSingle, rawBatch, redis }: DrainFigures): string[][] {
  const drains = ours.map((d) => d.rate);
  const drainMedian = median(drains);
  const [publish, consume] = [redis.map((x) => x.publish), redis.map((x) => x.consume)];
  const row = (label: string, values: number[]) => [
    label,
    summary(values, (v) => v, 0),
    (drainMedian / median(values)).toFixed(2),
  ];
  return [
    ['audit drain, first → last row (events/s)', summary(drains, (v) => v, 0), '1.00'],
    row(
      'audit drain, from audit start (events/s)',
      ours.map((d) => d.withStart),
    ),
    row(
      'raw pipeline drain, first → last row (events/s)',
      raw.map((d) => d.rate),
    ),
    row(
      'raw pipeline drain, from consumer start (events/s)',
      raw.map((d) => d.withStart),
    ),
    row('INSERT alone, 1 row per statement, 10 connections', rawSingle),
    row('INSERT alone, 100 rows per statement, 10 connections', rawBatch),
    row('Redis XADD (publish)', publish),
    row('Redis XREADGROUP (consume)', consume),
  ];
}

/** Every measured series, for the chart and the JSON. */
function seriesOf({ http, propagation, cpu, drain }: Measured): Series[] {
  const levels = (side: string, list: PropagationLevel[]) =>
    list.flatMap(({ name, runs }) => [
      { name: `${side}propagation p50 @${name}`, unit: 'ms', values: runs.map((x) => x.stages.total.p50) },
      { name: `${side}propagation p99 @${name}`, unit: 'ms', values: runs.map((x) => x.stages.total.p99) },
    ]);
  return [
    ...http.flatMap((h) => httpSeries(`${h.method} c=${h.concurrency}`, h.runs)),
    ...levels('', propagation.ours),
    ...levels('raw ', propagation.raw),
    { name: 'CPU per product', unit: 'CPU ms', values: cpu.ours.map(perProduct) },
    { name: 'raw CPU per product', unit: 'CPU ms', values: cpu.raw.map(perProduct) },
    { name: 'audit drain', unit: 'events/s', values: drain.ours.map((d) => d.rate) },
    { name: 'raw pipeline drain', unit: 'events/s', values: drain.raw.map((d) => d.rate) },
    { name: 'INSERT alone, 1 row/statement', unit: 'rows/s', values: drain.rawSingle },
    { name: 'INSERT alone, 100 rows/statement', unit: 'rows/s', values: drain.rawBatch },
    { name: 'Redis XADD', unit: 'msgs/s', values: drain.redis.map((x) => x.publish) },
    { name: 'Redis XREADGROUP', unit: 'msgs/s', values: drain.redis.map((x) => x.consume) },
  ];
}

function httpSeries(label: string, runs: HttpComparison['runs']): Series[] {
  return (['sidecar', 'direct', 'raw'] as const)
    .filter((way) => runs[way].length > 0)
    .flatMap((way) => {
      const name = way === 'sidecar' ? 'via sidecar' : way === 'raw' ? 'raw pipeline' : 'direct';
      return [
        { name: `${label} ${name} req/s`, unit: 'req/s', values: runs[way].map((f) => f.rps) },
        { name: `${label} ${name} p50`, unit: 'ms', values: runs[way].map((f) => f.p50) },
        { name: `${label} ${name} p99`, unit: 'ms', values: runs[way].map((f) => f.p99) },
      ];
    });
}

// ---- render -------------------------------------------------------------------------------------

function renderReport(measured: Measured, ratios: Record<string, RatioFigure>): string {
  const levels = measured.propagation;
  return [
    `Benchmark ${new Date().toISOString()} — ${cpus().length} CPUs, medians of ${REPEATS} runs (min–max)`,
    '',
    ratioTable(ratios),
    '',
    cpuTable(measured.cpu),
    '',
    formatTable(
      [
        'request',
        'conc.',
        'via sidecar req/s',
        'direct req/s',
        'raw req/s',
        'sidecar ÷ direct',
        'sidecar / direct ÷ raw',
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
    formatTable(['daprd per call (mean × calls)', ...Object.keys(DAPRD_CALLS)], daprdCallRows(levels.ours)),
    '',
    formatTable(['drain and ceilings', 'rate', 'audit drain ÷ this'], drainRows(measured.drain)),
  ].join('\n');
}

/** bench/results/latest.{json,md,svg}: the ratios first, then every run's figures, the tables, the chart. */
async function writeResults(
  at: string,
  measured: Measured,
  figures: Record<string, RatioFigure>,
  report: string,
): Promise<void> {
  const series = seriesOf(measured);
  const json = {
    at,
    cpus: cpus().length,
    repeats: REPEATS,
    secondsPerRun: SECONDS,
    drainEvents: DRAIN_EVENTS,
    ratios: ratiosJson(figures),
    ratioFigures: figures,
    cpuPerProductByProcess: { rate: measured.cpu.rate, ...cpuByProcess(measured.cpu) },
    ...Object.fromEntries(measured.http.map((h) => [`${h.method} c=${h.concurrency}`, h.runs])),
    ...Object.fromEntries(measured.propagation.ours.map((p) => [`propagation ${p.name}`, p.runs])),
    ...Object.fromEntries(measured.propagation.raw.map((p) => [`raw propagation ${p.name}`, p.runs])),
    cpu: measured.cpu,
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
  const raw = await RawPipeline.start().catch(async (err: unknown) => {
    await stack.stop();
    throw err;
  });
  const at = new Date().toISOString();
  try {
    const servers = await findServers();
    const ours = oursSubject(stack, dbs.names, servers);
    const measured = await measure({ stack, raw, ours, rawSubject: rawSubject(raw, servers) });
    const figures = ratioFigures(measured);
    const report = renderReport(measured, figures);
    await writeResults(at, measured, figures, report);
    process.stdout.write(`\n${report}\n\n`);
    log(`results in bench/results/latest.{md,json,svg}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await raw.stop();
    await stack.stop();
    await dbs.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
