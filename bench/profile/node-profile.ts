/**
 * Where a Node process's CPU went, from a V8 CPU profile (`node --cpu-prof`): its samples within a time
 * window, each charged to the library whose code ran (self time) and to the library on whose behalf it
 * ran (the nearest frame up the stack outside Node's own modules: a socket write made by pg is pg's).
 */

/** The parts of a `.cpuprofile` this reads (V8's Profiler.Profile). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  /** Microseconds on the monotonic clock, as process.hrtime. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface NodeBreakdown {
  /** CPU milliseconds sampled in the window, idle excluded. */
  busyMs: number;
  /** Milliseconds per place where the code ran. */
  bySelf: Record<string, number>;
  /** Milliseconds per library that asked for the work (Node's own modules charged to their caller). */
  byCaller: Record<string, number>;
  /** The busiest functions by self time: `name (place)` → ms. */
  topFunctions: Record<string, number>;
  /** Our own functions (common, catalog, audit) by the time spent in them and in all they call. */
  oursInclusive: Record<string, number>;
}

const IDLE = '(idle)';
const NODE_CORE = 'Node.js core';

/** Where a frame's code lives: a package, one of our workspaces, Node's core, or V8 itself. */
export function placeOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'V8: garbage collector';
  if (functionName === '(program)' || functionName === '(root)') return 'V8: runtime, compiler and native';
  if (functionName === IDLE) return IDLE;
  if (url.startsWith('node:')) return NODE_CORE;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1]) return pkg[1];
  const ours = /\/(common|catalog|audit)\/(?:dist|src)\//.exec(url);
  if (ours?.[1]) return `ours: ${ours[1]}`;
  return url ? 'other scripts' : 'V8: builtins';
}

interface Indexed {
  place: Map<number, string>;
  label: Map<number, string>;
  parent: Map<number, number>;
}

function index(profile: CpuProfile): Indexed {
  const place = new Map<number, string>();
  const label = new Map<number, string>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = placeOf(functionName, url);
    place.set(node.id, where);
    label.set(node.id, `${functionName || '(anonymous)'} (${where}${url ? `:${lineNumber + 1}` : ''})`);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  return { place, label, parent };
}

/** The first place up the stack from `id` that is not Node's core or V8's builtins. */
function callerPlace(id: number, ix: Indexed): string {
  const own = ix.place.get(id) ?? NODE_CORE;
  for (let at: number | undefined = id; at !== undefined; at = ix.parent.get(at)) {
    const where = ix.place.get(at);
    if (where && where !== NODE_CORE && where !== 'V8: builtins' && !where.startsWith('V8: runtime')) return where;
  }
  return own;
}

/** The labels of our own functions on the stack from `id` up, each once. */
function oursOnStack(id: number, ix: Indexed): Set<string> {
  const found = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = ix.parent.get(at)) {
    if (ix.place.get(at)?.startsWith('ours: ')) found.add(ix.label.get(at) ?? String(at));
  }
  return found;
}

const add = (into: Record<string, number>, key: string, ms: number) => (into[key] = (into[key] ?? 0) + ms);

/** The samples taken between `fromUs` and `toUs` (process.hrtime microseconds), charged as above. */
export function breakdown(profile: CpuProfile, fromUs: number, toUs: number, top = 15): NodeBreakdown {
  const ix = index(profile);
  const out: NodeBreakdown = { busyMs: 0, bySelf: {}, byCaller: {}, topFunctions: {}, oursInclusive: {} };
  const functions: Record<string, number> = {};
  const ours: Record<string, number> = {};
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    at += profile.timeDeltas[i] ?? 0;
    const place = ix.place.get(id);
    if (at < fromUs || at > toUs || place === IDLE || place === undefined) return;
    out.busyMs += ms;
    add(out.bySelf, place, ms);
    add(out.byCaller, callerPlace(id, ix), ms);
    add(functions, ix.label.get(id) ?? String(id), ms);
    for (const label of oursOnStack(id, ix)) add(ours, label, ms);
  });
  out.topFunctions = busiest(functions, top);
  out.oursInclusive = busiest(ours, top);
  return out;
}

const busiest = (ms: Record<string, number>, top: number) =>
  Object.fromEntries(
    Object.entries(ms)
      .sort((a, b) => b[1] - a[1])
      .slice(0, top),
  );
