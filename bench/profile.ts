/**
 * `npm run bench:profile`: where each CPU-millisecond of a product goes in our stack, with both apps under
 * Node's sampling profiler (`--cpu-prof`) and both sidecars under Go's (`--enable-profiling`, pprof), in
 * two windows of the benchmark's stack, after the time of each hop at idle (profile/idle-hops.ts):
 *   - paced: PROFILE_RATE writes/s (250, about half our write rate through the sidecar) for
 *     PROFILE_SECONDS (20), every process profiled over the same window;
 *   - drain: PROFILE_DRAIN_EVENTS (20,000) events queued while audit is stopped, then audit started and
 *     its app and sidecar profiled from the first audit row to the last.
 * Beside each profile, the process's CPU from /proc over the window: the profile's samples share that
 * out (a sampling profiler counts time on the CPU and time waiting for it alike, on a busy 2-core machine).
 * Writes bench/results/profile.md; the profiles go to bench/results/profiles/ (not kept in git).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabases, runId } from '../test/support/databases';
import { must } from '../test/support/must';
import { pgQuery } from '../test/support/sql';
import { PROJECT_ROOT } from '../tools/dapr/versions';
import { AppId, Stack, startStack } from '../tools/stack';
import { formatTable } from '../tools/table';
import { CpuSampler } from './cpu';
import { pacedPosts } from './latency';
import { BODY, log, queueBacklog } from './measure';
import { goBreakdown, GoBreakdown, takeGoProfile } from './profile/go-profile';
import { HopTime, idleHops } from './profile/idle-hops';
import { breakdown, CpuProfile, NodeBreakdown } from './profile/node-profile';
import { AuditWatch, findServers, oursSubject, settle, Subject } from './subjects';

const RESULTS = join(PROJECT_ROOT, 'bench', 'results');
const PROFILES = join(RESULTS, 'profiles');
const RATE = Number(process.env.PROFILE_RATE ?? 250);
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 20);
const DRAIN_EVENTS = Number(process.env.PROFILE_DRAIN_EVENTS ?? 20_000);
/** The sidecars' profiles run this much longer than the writes, for the last events to reach the audit table. */
const TAIL_SECONDS = 2;

interface Window {
  title: string;
  apps: AppId[];
  fromUs: number;
  toUs: number;
  products: number;
  procMs: Record<string, number>;
  /** Relay rounds (distinct claim times) and audit deliveries (distinct insert times) of the window's events. */
  rounds: number;
  deliveries: number;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const daprdProfile = (phase: string, app: string) => join(PROFILES, `${phase}-${app}-daprd.pb.gz`);
const nodeProfile = (phase: string, app: string) => join(PROFILES, `${phase}-${app}.cpuprofile`);
/** Where the apps write their profiles as they exit (--cpu-prof-name): renamed after each phase. */
const exitProfile = (app: string) => join(PROFILES, `${app}.cpuprofile`);

/** Paced writes under all four profilers, and /proc's count of the same window. */
async function pacedWindow(stack: Stack, ours: Subject): Promise<Window> {
  log(`warming up at ${RATE} writes/s`);
  await pacedPosts(ours.writeUrl, BODY, RATE, 3);
  await settle(ours);
  const watch = await AuditWatch.open(ours.dbs.audit);
  try {
    const lastId = await watch.lastId();
    log(`profiling ${SECONDS} s at ${RATE} writes/s (+${TAIL_SECONDS} s for the last events)`);
    const sampler = new CpuSampler(ours.processes(new Set([watch.backendPid]))).start();
    const fromUs = nowUs();
    const apps: AppId[] = ['catalog', 'audit'];
    const goProfiles = Promise.all(
      apps.map((app) =>
        takeGoProfile(stack.node(app).spec.profilePort, SECONDS + TAIL_SECONDS, daprdProfile('paced', app)),
      ),
    );
    const load = await pacedPosts(ours.writeUrl, BODY, RATE, SECONDS);
    await watch.waitForRows(lastId, load.sent - load.errors, 'the audit rows', 300_000, 50);
    await goProfiles;
    const [toUs, procMs] = [nowUs(), sampler.stop()];
    const title = `paced: ${RATE} products/s created and audited`;
    return { title, apps, fromUs, toUs, procMs, ...(await outcome(ours.dbs, lastId)) };
  } finally {
    await watch.close();
  }
}

/** A backlog drained by a freshly started audit, profiled from its first row to its last. */
async function drainWindow(stack: Stack, ours: Subject): Promise<Window> {
  const audit = stack.node('audit');
  await audit.stop();
  renameSync(exitProfile('audit'), nodeProfile('paced', 'audit'));
  log(`queueing ${DRAIN_EVENTS} events while audit is stopped`);
  await queueBacklog(stack, DRAIN_EVENTS, 10_000_000);
  const watch = await AuditWatch.open(ours.dbs.audit);
  try {
    const lastId = await watch.lastId();
    await audit.start();
    await watch.waitForRows(lastId, 1, 'the first backlog row', 20_000, 100);
    const sampler = new CpuSampler(ours.processes(new Set([watch.backendPid]))).start();
    const fromUs = nowUs();
    // Longer than the drain: the sidecar idles once the backlog is gone.
    const seconds = Math.ceil(DRAIN_EVENTS / 2000) + TAIL_SECONDS;
    log(`profiling audit's drain (${seconds} s)`);
    const goProfile = takeGoProfile(audit.spec.profilePort, seconds, daprdProfile('drain', 'audit'));
    await watch.waitForRows(lastId, DRAIN_EVENTS, 'the audit rows', 300_000, 50);
    const toUs = nowUs();
    await goProfile;
    const procMs = sampler.stop();
    const title = `drain: ${DRAIN_EVENTS} queued events taken in by audit`;
    return { title, apps: ['audit'], fromUs, toUs, procMs, ...(await outcome(ours.dbs, lastId)) };
  } finally {
    await watch.close();
  }
}

/** The window's products, and how they went out and in: per relay round (claim time) and per delivery (insert time). */
async function outcome(dbs: { catalog: string; audit: string }, afterId: number) {
  const audited = await pgQuery<{ event_id: string; recorded_at: Date }>(
    dbs.audit,
    'SELECT event_id, recorded_at FROM audit_logs WHERE id > $1',
    [afterId],
  );
  const claims = await pgQuery<{ n: string }>(
    dbs.catalog,
    'SELECT count(DISTINCT published_at) AS n FROM outbox_events WHERE event_id = ANY($1)',
    [audited.map((r) => r.event_id)],
  );
  return {
    products: audited.length,
    rounds: Number(claims[0]?.n ?? 0),
    deliveries: new Set(audited.map((r) => r.recorded_at.getTime())).size,
  };
}

const perProduct = (ms: number, products: number) => (ms / products).toFixed(3);

/** A profile's samples scaled to the CPU /proc counted for the process: its share of each place or function. */
interface Scale {
  products: number;
  sampledMs: number;
  procMs: number;
}

function shareTable(title: string, ms: Record<string, number>, scale: Scale, top = 15): string {
  const rows = Object.entries(ms)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .filter(([, v]) => v / scale.sampledMs >= 0.005)
    .map(([k, v]) => {
      const share = v / scale.sampledMs;
      return [k, perProduct(share * scale.procMs, scale.products), `${(100 * share).toFixed(1)}%`];
    });
  return formatTable([title, 'CPU ms per product', 'share'], rows);
}

/** One process's profile: its /proc CPU per product, then that CPU shared out by each of `tables`. */
function section(
  title: string,
  w: Window,
  group: string,
  sampledMs: number,
  tables: Record<string, Record<string, number>>,
): string {
  const scale: Scale = { products: w.products, sampledMs, procMs: w.procMs[group] ?? NaN };
  return [
    `#### ${title}`,
    '',
    `${perProduct(scale.procMs, w.products)} CPU ms per product (/proc), shared out by the profile's samples.`,
    ...Object.entries(tables).flatMap(([heading, ms]) => ['', shareTable(heading, ms, scale)]),
  ].join('\n');
}

const nodeSection = (app: string, b: NodeBreakdown, w: Window) =>
  section(`${app} app (Node.js, --cpu-prof)`, w, `${app} app`, b.busyMs, {
    'on behalf of (Node.js core charged to its caller)': b.byCaller,
    'where the code ran (self time)': b.bySelf,
    'our functions (with everything they call)': b.oursInclusive,
    'busiest functions (self time)': b.topFunctions,
  });

const goSection = (app: string, b: GoBreakdown, w: Window) =>
  section(`${app} daprd (Go, pprof)`, w, `${app} daprd`, b.busyMs, {
    'Go package (self time)': b.byPackage,
    "Dapr's own functions (with everything they call)": b.daprFunctions,
  });

/** One window's report: /proc per process, then each app's and each sidecar's profile. */
function windowReport(phase: string, w: Window): string {
  const seconds = (w.toUs - w.fromUs) / 1e6;
  const proc = Object.entries(w.procMs)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, perProduct(v, w.products)]);
  const read = (app: string) => JSON.parse(readFileSync(nodeProfile(phase, app), 'utf8')) as CpuProfile;
  const batching = w.rounds
    ? `${(w.products / w.rounds).toFixed(1)} events per relay round (${w.rounds} rounds), `
    : '';
  return [
    `### ${w.title}: ${w.products} products in ${seconds.toFixed(1)} s`,
    '',
    `${batching}${(w.products / w.deliveries).toFixed(1)} per delivery to the audit table (${w.deliveries} deliveries).`,
    '',
    formatTable(['process (/proc)', 'CPU ms per product'], proc),
    '',
    ...w.apps.flatMap((app) => [
      nodeSection(app, breakdown(read(app), w.fromUs, w.toUs), w),
      '',
      goSection(app, goBreakdown(daprdProfile(phase, app)), w),
      '',
    ]),
  ].join('\n');
}

function hopsReport(hops: Record<string, HopTime>): string {
  const rows = Object.entries(hops).map(([hop, t]) => [hop, t.p50.toFixed(2), t.p90.toFixed(2)]);
  return ['### idle: one call at a time, 100 ms apart', '', formatTable(['hop', 'p50 ms', 'p90 ms'], rows), ''].join(
    '\n',
  );
}

async function main(): Promise<void> {
  rmSync(PROFILES, { recursive: true, force: true });
  mkdirSync(PROFILES, { recursive: true });
  const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'profile');
  const nodeOptions = (app: string) => `--cpu-prof --cpu-prof-dir=${PROFILES} --cpu-prof-name=${app}.cpuprofile`;
  const stack = await startStack({
    ports: 'free',
    databases: dbs.names,
    topic: `products-${runId()}`,
    appEnv: {
      catalog: { LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions('catalog') },
      audit: { LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions('audit') },
    },
    profiling: ['catalog', 'audit'],
  });
  const windows: Record<string, Window> = {};
  let hops: Record<string, HopTime> | undefined;
  try {
    const ours = oursSubject(stack, dbs.names, await findServers());
    log('timing each hop at idle');
    hops = await idleHops(stack, dbs.names.audit);
    windows.paced = await pacedWindow(stack, ours);
    windows.drain = await drainWindow(stack, ours);
  } finally {
    // The apps write their profiles as they exit.
    await stack.stop();
    await dbs.drop();
  }
  renameSync(exitProfile('catalog'), nodeProfile('paced', 'catalog'));
  renameSync(exitProfile('audit'), nodeProfile('drain', 'audit'));
  const text = [
    `Profile ${new Date().toISOString()}`,
    '',
    hopsReport(must(hops, 'the idle hops')),
    ...Object.entries(windows).map(([phase, w]) => windowReport(phase, must(w, phase))),
  ].join('\n');
  writeFileSync(join(RESULTS, 'profile.md'), `${text}\n`);
  process.stdout.write(`\n${text}\n`);
  log('written to bench/results/profile.md; the profiles are in bench/results/profiles/');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
