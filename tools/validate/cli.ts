/**
 * npm run validate -- [path...] [--quiet]
 *
 * Validates what this project deploys: Kubernetes kustomizations (rendered with the project's kubectl),
 * local run files (dapr.yaml, with every broker and SQL engine) and folders of Dapr resources. Each
 * document is checked by a Kubernetes API server started on loopback for the run (strict field
 * validation, the Dapr CRDs), and the whole set by the project's rules. With no path: every
 * kustomization under k8s/, and dapr.yaml. Exit code 0 when all is well, 1 when a problem was found,
 * 2 when it could not run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ControlPlane } from '../kube/control-plane';
import { formatProblem, validatePath, ValidatedSet } from './index';
import { findRepoRoot } from './load';

const USAGE = `usage: npm run validate -- [path...] [--quiet]
  path: a kustomization (k8s/base, k8s/overlays/azure-sql), a folder of them (k8s), a run file (dapr.yaml)
        or a folder of Dapr resources`;

export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    out(USAGE);
    return 0;
  }
  const root = findRepoRoot();
  const paths = args.positionals.length
    ? args.positionals
    : ['k8s', 'dapr.yaml'].map((p) => join(root, p)).filter((p) => existsSync(p));
  let sets: ValidatedSet[] = [];
  const server = await ControlPlane.start();
  try {
    for (const p of paths) sets = sets.concat(await validatePath(p, { server, root }));
  } catch (e) {
    err((e as Error).message);
    return 2;
  } finally {
    await server.stop();
  }
  let total = 0;
  for (const set of sets) {
    total += set.problems.length;
    if (set.problems.length) {
      out(`✗ ${set.label}: ${set.problems.length} problem(s)`);
      for (const p of set.problems) out(`    ${formatProblem(p)}`);
    } else if (!args.values.quiet) {
      out(`✓ ${set.label}: ${set.docs.length} resources`);
    }
  }
  return total ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { quiet: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exitCode = 2;
    },
  );
}
