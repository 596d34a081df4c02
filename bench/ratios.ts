import { formatTable } from '../tools/table';
import type { HttpComparison, Measured, Propagation } from './measure';
import { peakWriteRate } from './measure';
import { median } from './stats';
import { DAPRD_GROUPS } from './subjects';

/**
 * The results as ratios to the raw pipeline (bench/raw): ours ÷ raw, each side the median of its runs.
 * A ratio says what our stack costs over the same work done by hand on the same servers, which a faster
 * or slower machine moves far less than it moves the absolute figures.
 */
export interface RatioFigure {
  label: string;
  unit: string;
  ours: number;
  raw: number;
  /** ours ÷ raw: above 1 is worse for times and CPU, below 1 is worse for rates. */
  ratio: number;
  /** daprd's CPU ÷ all CPU counted while our stack produced the figure (median of its runs). */
  daprdShare: number;
}

const cpuTotal = (cpuMs: Record<string, number>) => Object.values(cpuMs).reduce((a, b) => a + b, 0);

function daprdShare(cpuMs: Record<string, number>): number {
  const all = cpuTotal(cpuMs);
  return all > 0 ? DAPRD_GROUPS.reduce((sum, g) => sum + (cpuMs[g] ?? 0), 0) / all : NaN;
}

const figure = (label: string, unit: string, ours: number, raw: number, share: number): RatioFigure => ({
  label,
  unit,
  ours,
  raw,
  ratio: ours / raw,
  daprdShare: share,
});

/** CPU milliseconds per audited product, all processes. */
export const perProduct = (run: Propagation) => cpuTotal(run.cpuMs) / run.products;

/** The processes that run each pipeline's own code: our two apps, the raw pipeline's two processes. */
const APP_GROUPS = ['catalog app', 'audit app', 'raw writer + relay', 'raw consumer'];

/** CPU milliseconds per audited product of the apps alone (no daprd, no servers). */
const appsPerProduct = (run: Propagation) => APP_GROUPS.reduce((sum, g) => sum + (run.cpuMs[g] ?? 0), 0) / run.products;

/** daprd's share in the runs of one way at the concurrency where that way peaked. */
function peakShare(http: HttpComparison[], way: 'sidecar' | 'direct'): number {
  const posts = http.filter((h) => h.method === 'POST');
  const peak = posts.reduce<HttpComparison | undefined>(
    (best, h) => (!best || median(h.runs[way].map((f) => f.rps)) > median(best.runs[way].map((f) => f.rps)) ? h : best),
    undefined,
  );
  return median((peak?.runs[way] ?? []).map((f) => daprdShare(f.cpuMs)));
}

function latencyFigures(m: Measured): Record<string, RatioFigure> {
  const level = (side: 'ours' | 'raw', name: string) => m.propagation[side].find((l) => l.name === name)?.runs ?? [];
  /** The propagation percentile `p` of both sides' runs, and daprd's share in ours. */
  const propagation = (label: string, p: 'p50' | 'p99', ours: Propagation[], raw: Propagation[]) => {
    const pick = (runs: Propagation[]) => median(runs.map((r) => r.stages.total[p]));
    return figure(label, 'ms', pick(ours), pick(raw), median(ours.map((r) => daprdShare(r.cpuMs))));
  };
  const at = (name: string, p: 'p50' | 'p99', label: string) =>
    propagation(label, p, level('ours', name), level('raw', name));
  // Both pipelines at the same pace, 50% of our write rate: the CPU step's runs.
  const sameRate = (p: 'p50' | 'p99') =>
    propagation(`propagation ${p}, both at ${m.cpu.rate}/s (50% of ours)`, p, m.cpu.ours, m.cpu.raw);
  return {
    idleP50: at('idle', 'p50', 'propagation p50, idle (10/s)'),
    idleP99: at('idle', 'p99', 'propagation p99, idle (10/s)'),
    loadedP50: sameRate('p50'),
    loadedP99: sameRate('p99'),
    ownRateP50: at('50%', 'p50', 'propagation p50, 50% of own write rate'),
    ownRateP99: at('50%', 'p99', 'propagation p99, 50% of own write rate'),
    loaded90P50: at('90%', 'p50', 'propagation p50, 90% of own write rate'),
    loaded90P99: at('90%', 'p99', 'propagation p99, 90% of own write rate'),
  };
}

/** Every ratio, by its key in latest.json. */
export function ratioFigures(m: Measured): Record<string, RatioFigure> {
  const { http, cpu, drain } = m;
  return {
    cpuPerProduct: figure(
      `CPU per product created and audited (both at ${cpu.rate}/s)`,
      'CPU ms',
      median(cpu.ours.map(perProduct)),
      median(cpu.raw.map(perProduct)),
      median(cpu.ours.map((r) => daprdShare(r.cpuMs))),
    ),
    appsCpuPerProduct: figure(
      `CPU per product of the apps alone, no daprd or servers (both at ${cpu.rate}/s)`,
      'CPU ms',
      median(cpu.ours.map(appsPerProduct)),
      median(cpu.raw.map(appsPerProduct)),
      NaN,
    ),
    writeThroughputSidecar: figure(
      'write throughput through the sidecar, peak over concurrencies',
      'req/s',
      peakWriteRate(http, 'sidecar'),
      peakWriteRate(http, 'raw'),
      peakShare(http, 'sidecar'),
    ),
    writeThroughputDirect: figure(
      'write throughput straight to the app, peak over concurrencies',
      'req/s',
      peakWriteRate(http, 'direct'),
      peakWriteRate(http, 'raw'),
      peakShare(http, 'direct'),
    ),
    ...latencyFigures(m),
    drain: figure(
      'drain of a backlog, first → last row',
      'events/s',
      median(drain.ours.map((d) => d.rate)),
      median(drain.raw.map((d) => d.rate)),
      median(drain.ours.map((d) => daprdShare(d.cpuMs))),
    ),
  };
}

/** The stable keys of latest.json's `ratios`: ours ÷ raw. */
export function ratiosJson(figures: Record<string, RatioFigure>) {
  const ratio = (key: string) => figures[key]?.ratio ?? NaN;
  return {
    cpuPerProduct: ratio('cpuPerProduct'),
    appsCpuPerProduct: ratio('appsCpuPerProduct'),
    writeThroughput: { sidecar: ratio('writeThroughputSidecar'), direct: ratio('writeThroughputDirect') },
    idleP50: ratio('idleP50'),
    idleP99: ratio('idleP99'),
    loadedP50: ratio('loadedP50'),
    loadedP99: ratio('loadedP99'),
    ownRateP50: ratio('ownRateP50'),
    ownRateP99: ratio('ownRateP99'),
    loaded90P50: ratio('loaded90P50'),
    loaded90P99: ratio('loaded90P99'),
    drain: ratio('drain'),
  };
}

const round = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const percent = (share: number) => (Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : '—');

export function ratioTable(figures: Record<string, RatioFigure>): string {
  return formatTable(
    ['ours ÷ raw (medians)', 'ours', 'raw', 'ours ÷ raw', "daprd's share of our CPU"],
    Object.values(figures).map((f) => [
      f.label,
      `${round(f.ours)} ${f.unit}`,
      `${round(f.raw)} ${f.unit}`,
      f.ratio.toFixed(2),
      percent(f.daprdShare),
    ]),
  );
}

/** CPU milliseconds per product by process (medians of the runs), for both pipelines. */
export function cpuByProcess(cpu: Measured['cpu']): Record<'ours' | 'raw', Record<string, number>> {
  const side = (runs: Propagation[]) => {
    const groups = [...new Set(runs.flatMap((r) => Object.keys(r.cpuMs)))];
    const byGroup = Object.fromEntries(groups.map((g) => [g, median(runs.map((r) => (r.cpuMs[g] ?? 0) / r.products))]));
    return { ...byGroup, total: median(runs.map(perProduct)) };
  };
  return { ours: side(cpu.ours), raw: side(cpu.raw) };
}

export function cpuTable(cpu: Measured['cpu']): string {
  const by = cpuByProcess(cpu);
  const order = ['catalog app', 'catalog daprd', 'audit app', 'audit daprd', 'raw writer + relay', 'raw consumer'];
  const groups = [...order, 'PostgreSQL', 'Redis', 'total'].filter((g) => g in by.ours || g in by.raw);
  const cell = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(3));
  return formatTable(
    [`CPU ms per product (${cpu.rate}/s, medians)`, 'ours', 'raw', 'ours ÷ raw'],
    groups.map((g) => [
      g,
      cell(by.ours[g]),
      cell(by.raw[g]),
      by.ours[g] !== undefined && by.raw[g] ? (by.ours[g] / by.raw[g]).toFixed(2) : '—',
    ]),
  );
}
