/** Pure helpers: what a binary says about its version, and which source to take. Unit-tested. */

/** `daprd --version` prints just the version, e.g. `1.18.3` (or `edge` for an unversioned build). */
export function parseDaprdVersion(output: string): string | undefined {
  const line = output.trim().split(/\r?\n/).pop()?.trim();
  return line && /^v?\d+\.\d+\.\d+([-.+][\w.]+)?$/.test(line) ? line.replace(/^v/, '') : undefined;
}

/** `dapr --version` prints `CLI version: 1.18.0` and `Runtime version: ...`. */
export function parseCliVersion(output: string): string | undefined {
  return /CLI version:\s*v?(\d+\.\d+\.\d+[\w.+-]*)/.exec(output)?.[1];
}

/** `go env GOVERSION` prints `go1.26.8`; true when it is at least `min`. */
export function goVersionAtLeast(goversion: string, min: string): boolean {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?/.exec(goversion.trim());
  if (!m) return false;
  const have = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  const want = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const [h, w] = [have[i] ?? 0, want[i] ?? 0];
    if (h !== w) return h > w;
  }
  return true;
}

export type SourceKind = 'project' | 'dapr-init' | 'path' | 'release' | 'go-build';

/** A binary found somewhere, with the version it reported (undefined if it would not run). */
export interface Candidate {
  kind: 'project' | 'dapr-init' | 'path';
  path: string;
  version?: string;
}

export interface SourceDecision {
  /** An installed binary of exactly the pinned version, if any, in order project → dapr init → PATH. */
  use?: Candidate;
  /** Binaries found with another version: reported, never used. */
  ignored: Candidate[];
}

export function pickInstalled(candidates: Candidate[], pinned: string): SourceDecision {
  const order: Candidate['kind'][] = ['project', 'dapr-init', 'path'];
  const sorted = [...candidates].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const use = sorted.find((c) => c.version === pinned);
  return { use, ignored: sorted.filter((c) => c !== use && c.version !== pinned) };
}

/** The sha256 file of a Dapr release holds `<hex>  <file name>` (or just the hex). */
export function parseSha256File(text: string): string | undefined {
  return /\b([a-f0-9]{64})\b/i.exec(text)?.[1]?.toLowerCase();
}

/** The build's -ldflags: the same version variables the Dapr Makefile sets, and a stripped binary. */
export function daprdLdflags(version: string): string {
  return [
    '-s',
    '-w',
    `-X github.com/dapr/dapr/pkg/buildinfo.version=${version}`,
    `-X github.com/dapr/dapr/pkg/buildinfo.gitversion=v${version}`,
    `-X github.com/dapr/kit/logger.DaprVersion=${version}`,
  ].join(' ');
}
