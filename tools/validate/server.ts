import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { idOf, Problem, SourcedResource } from './model';

/** What server validation needs of a Kubernetes API server: kubectl against it (tools/kube/control-plane.ts). */
export interface KubectlRunner {
  kubectl(args: string[], options?: { input?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
}

const fileName = (i: number, d: SourcedResource) =>
  `${String(i).padStart(3, '0')}-${idOf(d.resource).replace(/[^\w.-]+/g, '-')}.yaml`;

/** The message of one kubectl error line, without the file it names and the repeated preamble. */
function messageOf(line: string): string {
  return line
    .replace(/^Error from server \([^)]*\): /, '')
    .replace(/^error when \w+(?: \w+)* "[^"]+": /, '')
    .replace(/^error: /, '')
    .replace(/^error validating "[^"]+": /, '')
    .trim();
}

/**
 * The API server's own verdict on each object, without creating anything (`kubectl apply --dry-run=server
 * --validate=strict`): unknown or duplicate fields, wrong types, the Dapr CRDs' schemas, and everything its
 * validation refuses (a selector that does not match its template, a port out of range, ...). The
 * Namespaces the objects use are created first (a dry run needs them to exist); objects without one
 * (a local run's Dapr resources) are checked in the namespace "default".
 */
export async function validateOnServer(server: KubectlRunner, docs: SourcedResource[]): Promise<Problem[]> {
  const namespaces = new Set(docs.map((d) => d.resource.metadata?.namespace).filter((n): n is string => !!n));
  for (const ns of namespaces) {
    const { code, stderr } = await server.kubectl(['create', 'namespace', ns]);
    if (code !== 0 && !stderr.includes('AlreadyExists'))
      throw new Error(`cannot create namespace ${ns} on the validation server: ${stderr.trim()}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pdm-validate-'));
  try {
    const byFile = new Map(docs.map((d, i) => [fileName(i, d), d]));
    for (const [file, d] of byFile) writeFileSync(join(dir, file), stringify(d.resource));
    const { stderr } = await server.kubectl([
      'apply',
      '--dry-run=server',
      '--validate=strict',
      '-f',
      dir,
      '-o',
      'name',
    ]);
    return stderr
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('Warning: '))
      .map((line): Problem => {
        // kubectl names the file for most refusals, but only the object for "is invalid" ones.
        const invalid = /The (\w+) "([^"]+)" is invalid/.exec(line);
        const d =
          [...byFile.entries()].find(([file]) => line.includes(file))?.[1] ??
          docs.find((x) => invalid && x.resource.kind === invalid[1] && x.resource.metadata?.name === invalid[2]);
        return {
          rule: 'schema',
          resource: d ? idOf(d.resource) : '(server)',
          message: messageOf(line),
          ...(d?.source ? { source: d.source } : {}),
        };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
