/**
 * Where daprd's CPU went, from its pprof CPU profile (`--enable-profiling`: /debug/pprof/profile on the
 * profile port), read with `go tool pprof` (Go builds daprd here already): milliseconds per Go package
 * (self time) and the Dapr functions with the most time under them (cumulative).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface GoBreakdown {
  /** CPU milliseconds sampled. */
  busyMs: number;
  /** Self milliseconds per Go package. */
  byPackage: Record<string, number>;
  /** Cumulative milliseconds of the busiest functions of Dapr's own code (dapr/dapr, dapr/components-contrib, dapr/kit). */
  daprFunctions: Record<string, number>;
}

/** Takes a CPU profile of `seconds` from daprd's profile port into `file`. */
export async function takeGoProfile(profilePort: number, seconds: number, file: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${profilePort}/debug/pprof/profile?seconds=${seconds}`);
  if (!res.ok) throw new Error(`daprd's pprof endpoint answered ${res.status}: ${await res.text()}`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
}

/** One row of `go tool pprof -top -unit=ms`: flat, flat%, sum%, cum, cum%, function. */
const TOP_ROW = /^\s*([\d.]+)(?:ms)?\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(?:ms)?\s+[\d.]+%\s+(.+)$/;

export interface TopRow {
  flat: number;
  cum: number;
  fn: string;
}

export function parseTop(text: string): TopRow[] {
  return text.split('\n').flatMap((line) => {
    const m = TOP_ROW.exec(line);
    return m?.[1] && m[2] && m[3] ? [{ flat: Number(m[1]), cum: Number(m[2]), fn: m[3].trim() }] : [];
  });
}

/** A function's package: its name up to the first dot after the last slash (`net/http.(*conn).serve` → `net/http`). */
export function packageOf(fn: string): string {
  // A method's receiver, `(*T)`, may hold a path of its own (generic shapes): look for the slash before it.
  const paren = fn.indexOf('(');
  const slash = fn.lastIndexOf('/', paren === -1 ? undefined : paren);
  const dot = fn.indexOf('.', slash + 1);
  return dot === -1 ? fn : fn.slice(0, dot);
}

const DAPR_CODE = /^github\.com\/dapr\/(dapr|components-contrib|kit)\//;

export function summariseTop(rows: TopRow[], top = 15): GoBreakdown {
  const byPackage: Record<string, number> = {};
  let busyMs = 0;
  for (const { flat, fn } of rows) {
    busyMs += flat;
    const pkg = packageOf(fn);
    byPackage[pkg] = (byPackage[pkg] ?? 0) + flat;
  }
  const dapr = rows.filter((r) => DAPR_CODE.test(r.fn)).sort((a, b) => b.cum - a.cum);
  return {
    busyMs,
    byPackage,
    daprFunctions: Object.fromEntries(dapr.slice(0, top).map((r) => [r.fn.replace('github.com/', ''), r.cum])),
  };
}

/** The breakdown of a profile file, by `go tool pprof`. */
export function goBreakdown(file: string): GoBreakdown {
  const text = execFileSync(
    'go',
    ['tool', 'pprof', '-top', '-nodecount=1000000', '-nodefraction=0', '-edgefraction=0', '-unit=ms', file],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return summariseTop(parseTop(text));
}
