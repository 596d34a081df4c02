/**
 * npm run validate -- [folder...] [--schemas <dir>] [--quiet]
 *
 * Validates Kubernetes kustomizations (rendered with `kubectl kustomize`) and Dapr components folders
 * offline against ../shared/schemas. With no folder: every kustomization under k8s/ and components/.
 * Exit code 0 when all is well, 1 when a problem was found, 2 when it could not run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSchemasDir, formatProblem, SchemaSet, validatePath, ValidatedSet } from './index';
import { findRepoRoot } from './load';

export function main(argv: string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): number {
  const root = findRepoRoot();
  const paths: string[] = [];
  let schemasDir = defaultSchemasDir(root);
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--schemas') schemasDir = argv[++i] ?? '';
    else if (a === '--quiet') quiet = true;
    else if (a === '--help' || a === '-h') {
      out('usage: npm run validate -- [folder...] [--schemas <dir>] [--quiet]');
      out('  folder: a kustomization (k8s/base, k8s/overlays/azure-sql), a folder of them (k8s), or a Dapr components folder');
      return 0;
    } else if (a.startsWith('--')) {
      err(`unknown option ${a}`);
      return 2;
    } else paths.push(a);
  }
  if (!paths.length) paths.push(...['k8s', 'components'].map((p) => join(root, p)).filter((p) => existsSync(p)));
  if (!existsSync(schemasDir)) {
    err(`schemas not found at ${schemasDir}: pass --schemas <dir> or set SCHEMAS_DIR`);
    return 2;
  }
  const schemas = new SchemaSet(schemasDir);
  let sets: ValidatedSet[] = [];
  try {
    for (const p of paths) {
      sets = sets.concat(validatePath(p, schemas, root));
    }
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
  let total = 0;
  for (const set of sets) {
    total += set.problems.length;
    if (set.problems.length) {
      out(`✗ ${set.label}: ${set.problems.length} problem(s)`);
      for (const p of set.problems) out(`    ${formatProblem(p)}`);
    } else if (!quiet) {
      out(`✓ ${set.label}: ${set.docs.length} resources`);
    }
  }
  return total ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
