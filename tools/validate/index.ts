import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { appIdsFromRunFile, findRepoRoot, isKustomization, loadPrerequisites, loadYamlFile, loadYamlFolder, renderKustomization, secretNamesFromJson } from './load';
import { SchemaSet } from './schemas';
import { Problem, SourcedResource, validateDocuments } from './validate';

export { SchemaSet } from './schemas';
export { formatProblem, validateDocuments } from './validate';
export type { DeclaredSecret, Problem, Resource, Rule, SourcedResource, ValidateOptions } from './validate';
export { kubectlAvailable, loadPrerequisites, renderKustomization } from './load';

/** ../shared/schemas next to the repository (or SCHEMAS_DIR). */
export function defaultSchemasDir(repoRoot = findRepoRoot()): string {
  return process.env.SCHEMAS_DIR ? resolve(process.env.SCHEMAS_DIR) : resolve(repoRoot, '../shared/schemas');
}

export interface ValidatedSet {
  /** What was validated, e.g. "k8s/overlays/azure-sql" or "components + brokers/rabbitmq.yaml". */
  label: string;
  docs: SourcedResource[];
  problems: Problem[];
}

/** Renders a kustomization and validates it with its prerequisites (kubernetes mode). */
export function validateKustomization(dir: string, schemas: SchemaSet, root = findRepoRoot()): ValidatedSet {
  const label = relative(root, resolve(dir)) || dir;
  const docs = renderKustomization(dir, label);
  const prerequisites = loadPrerequisites(dir);
  const problems = validateDocuments(docs, { schemas, mode: 'kubernetes', declaredSecrets: prerequisites.secrets, appIds: prerequisites.externalAppIds });
  return { label, docs, problems };
}

const keyOf = (d: SourcedResource) => `${d.resource.kind}/${d.resource.metadata?.name}`;

/**
 * A self-hosted components folder (daprd --resources-path) validated as daprd would load it, and each
 * YAML file of its sub-folders (brokers/, sql/: alternatives selected at start) as a variant replacing
 * the resources of the same kind and name. App ids come from the repository's dapr.yaml; the secrets
 * the local store holds from <folder>/secrets/secrets.example.json.
 */
export function validateComponentsFolder(dir: string, schemas: SchemaSet, root = findRepoRoot()): ValidatedSet[] {
  const runFile = join(root, 'dapr.yaml');
  const appIds = existsSync(runFile) ? appIdsFromRunFile(runFile) : [];
  const secretsExample = join(dir, 'secrets', 'secrets.example.json');
  const declaredSecrets = existsSync(secretsExample) ? secretNamesFromJson(secretsExample).map((name) => ({ name })) : undefined;
  const base = loadYamlFolder(dir, root);
  const label = relative(root, resolve(dir)) || dir;
  const sets: ValidatedSet[] = [];
  const check = (setLabel: string, docs: SourcedResource[]) =>
    sets.push({ label: setLabel, docs, problems: validateDocuments(docs, { schemas, mode: 'self-hosted', appIds, declaredSecrets }) });
  check(label, base);
  for (const sub of readdirSync(dir).sort()) {
    const subDir = join(dir, sub);
    if (!statSync(subDir).isDirectory()) continue;
    for (const file of readdirSync(subDir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const variant = loadYamlFile(join(subDir, file), root);
      const replaced = new Set(variant.map(keyOf));
      check(`${label} + ${sub}/${file}`, [...base.filter((d) => !replaced.has(keyOf(d))), ...variant]);
    }
  }
  return sets;
}

/** Kustomization or Component (kustomize's kind in the folder's kustomization file). */
export function kustomizationKind(dir: string): string {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => join(dir, f)).find((f) => existsSync(f))!;
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

/** Validates a path: a kustomization (kubernetes mode) or a components folder (self-hosted mode). */
export function validatePath(path: string, schemas: SchemaSet, root = findRepoRoot()): ValidatedSet[] {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new Error(`${path}: not a folder (give a kustomization or a components folder)`);
  if (isKustomization(abs)) {
    if (kustomizationKind(abs) === 'Component') {
      throw new Error(`${path} is a kustomize Component: it renders only inside a kustomization that lists it under components (e.g. k8s/overlays/ingress); validate that one`);
    }
    return [validateKustomization(abs, schemas, root)];
  }
  const kustomizations = findKustomizations(abs);
  if (kustomizations.length) return kustomizations.map((k) => validateKustomization(k, schemas, root));
  if (basename(abs) === 'secrets') return [];
  return validateComponentsFolder(abs, schemas, root);
}
