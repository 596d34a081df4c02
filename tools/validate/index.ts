import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
// The launcher's modules one by one: its index would load the servers' client libraries (tools/stack/infra).
import { localSecrets } from '../stack/local-state';
import { readRunFile, resolveRunFile } from '../stack/run-file';
import { Broker, BROKERS, SQL_ENGINES, SqlEngine, withVariants } from '../stack/variants';
import { daprFacts } from './dapr-facts';
import {
  findRepoRoot,
  isKustomization,
  loadPrerequisites,
  loadYamlFile,
  loadYamlFolder,
  renderKustomization,
} from './load';
import type { Problem, SourcedResource } from './model';
import { KubectlRunner, validateOnServer } from './server';
import { validateDocuments, ValidateOptions } from './validate';

export { formatProblem } from './model';
export type { DeclaredSecret, Problem, Resource, Rule, SourcedResource } from './model';
export { validateDocuments } from './validate';
export type { ValidateOptions } from './validate';
export { loadPrerequisites, renderKustomization } from './load';

/**
 * Validation of what this project deploys: each document by the Kubernetes API server (when one is
 * given: strict field validation, the Dapr CRDs), and the whole set by this project's rules (rules.ts).
 */
export interface ValidatedSet {
  /** What was validated, e.g. "k8s/overlays/azure-sql" or "dapr.yaml (rabbitmq × postgres)". */
  label: string;
  docs: SourcedResource[];
  problems: Problem[];
}

export interface Validation {
  /** An API server to check each document against; without one, only the project's rules run. */
  server?: KubectlRunner;
  root?: string;
}

async function check(
  label: string,
  docs: SourcedResource[],
  options: Omit<ValidateOptions, 'facts'>,
  server?: KubectlRunner,
): Promise<ValidatedSet> {
  const own = validateDocuments(docs, { ...options, facts: daprFacts() });
  const onServer = server ? await validateOnServer(server, docs) : [];
  return { label, docs, problems: [...onServer, ...own] };
}

/** Renders a kustomization and validates it with its prerequisites (kubernetes mode). */
export function validateKustomization(
  dir: string,
  { server, root = findRepoRoot() }: Validation = {},
): Promise<ValidatedSet> {
  const label = relative(root, resolve(dir)) || dir;
  const prerequisites = loadPrerequisites(dir);
  return check(
    label,
    renderKustomization(dir, label),
    { mode: 'kubernetes', declaredSecrets: prerequisites.secrets, appIds: prerequisites.externalAppIds },
    server,
  );
}

/** The broker × SQL combinations a local run is checked in: the run file's own, then each other one. */
function localVariants(): [Broker, SqlEngine][] {
  return [
    ['redis', 'postgres'],
    ...BROKERS.filter((b) => b !== 'redis').map((b): [Broker, SqlEngine] => [b, 'postgres']),
    ...SQL_ENGINES.filter((e) => e !== 'postgres').map((e): [Broker, SqlEngine] => ['redis', e]),
  ];
}

/**
 * A local run file (dapr.yaml) validated as daprd would load it: for each broker and SQL engine, the
 * resources of the folders its resourcesPaths name and its configuration file, with the app ids of the
 * run file and the secrets the local store holds (tools/stack/local-state.ts).
 */
export async function validateLocalRun(
  runFile: string,
  { server, root = findRepoRoot() }: Validation = {},
): Promise<ValidatedSet[]> {
  const baseDir = dirname(resolve(runFile));
  const raw = readRunFile(runFile);
  const declaredSecrets = Object.keys(localSecrets('audit')).map((name) => ({ name }));
  const sets: ValidatedSet[] = [];
  for (const [broker, sql] of localVariants()) {
    const apps = resolveRunFile(withVariants(raw, baseDir, broker, sql), baseDir);
    const yamlIn = (d: string) =>
      readdirSync(d)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => join(d, f));
    const files = [...new Set(apps.flatMap((a) => [...a.resourcesPaths.flatMap(yamlIn), a.configFilePath]))];
    const label = `${relative(root, runFile) || runFile} (${broker} × ${sql})`;
    sets.push(
      await check(
        label,
        files.flatMap((f) => loadYamlFile(f, root)),
        { mode: 'self-hosted', appIds: apps.map((a) => a.appID), declaredSecrets },
        server,
      ),
    );
  }
  return sets;
}

/** A folder of Dapr resources (a daprd --resources-path) validated as one set, app ids from dapr.yaml. */
export function validateResourcesFolder(
  dir: string,
  { server, root = findRepoRoot() }: Validation = {},
): Promise<ValidatedSet> {
  const runFile = join(root, 'dapr.yaml');
  const appIds = existsSync(runFile) ? readRunFile(runFile).apps.map((a) => a.appID ?? basename(a.appDirPath)) : [];
  return check(relative(root, resolve(dir)) || dir, loadYamlFolder(dir, root), { mode: 'self-hosted', appIds }, server);
}

/** Kustomization or Component (kustomize's kind in the folder's kustomization file). */
export function kustomizationKind(dir: string): string {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => join(dir, f))
    .find((f) => existsSync(f));
  if (!file) throw new Error(`${dir} has no kustomization file`);
  return (parse(readFileSync(file, 'utf8')) as { kind?: string } | null)?.kind ?? 'Kustomization';
}

/** Kustomization folders (not kustomize Components, which only render inside one) under a folder. */
export function findKustomizations(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    if (isKustomization(d) && kustomizationKind(d) === 'Kustomization') found.push(d);
    for (const entry of readdirSync(d).sort()) {
      const p = join(d, entry);
      if (statSync(p).isDirectory() && entry !== 'node_modules' && !entry.startsWith('.')) walk(p);
    }
  };
  walk(dir);
  return found;
}

/** Validates a path: a kustomization (kubernetes mode), a folder of them, a run file, or a folder of Dapr resources. */
export async function validatePath(path: string, validation: Validation = {}): Promise<ValidatedSet[]> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new Error(`${path}: no such file or folder`);
  if (statSync(abs).isFile()) return validateLocalRun(abs, validation);
  if (isKustomization(abs)) {
    if (kustomizationKind(abs) === 'Component') {
      throw new Error(
        `${path} is a kustomize Component: it renders only inside a kustomization that lists it under components (e.g. k8s/overlays/ingress); validate that one`,
      );
    }
    return [await validateKustomization(abs, validation)];
  }
  const kustomizations = findKustomizations(abs);
  if (kustomizations.length) {
    const sets: ValidatedSet[] = [];
    for (const k of kustomizations) sets.push(await validateKustomization(k, validation));
    return sets;
  }
  return [await validateResourcesFolder(abs, validation)];
}
