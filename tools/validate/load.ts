import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { kubeHome } from '../kube/versions';
import type { DeclaredSecret, Resource, SourcedResource } from './model';

/** Where a kustomization or a components folder is read from, and what the validator needs besides. */

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export const isKustomization = (dir: string) => KUSTOMIZATION_FILES.some((f) => existsSync(join(dir, f)));

export function parseYamlDocuments(text: string, source: string): SourcedResource[] {
  const out: SourcedResource[] = [];
  for (const doc of parseAllDocuments(text)) {
    const [error] = doc.errors;
    if (error) throw new Error(`${source}: ${error.message}`);
    const value = doc.toJS() as Resource | null;
    if (value !== null && value !== undefined) out.push({ resource: value, source });
  }
  return out;
}

/**
 * `kubectl kustomize <dir>`: what `kubectl apply -k <dir>` would send, rendered offline by the project's
 * kubectl (the Kubernetes version the manifests are tested against; `npm run setup:k8s` builds it).
 */
export function renderKustomization(dir: string, label = dir): SourcedResource[] {
  const kubectl = kubeHome().kubectl;
  if (!existsSync(kubectl))
    throw new Error(`${kubectl} is missing: run \`npm run setup:k8s\` (npm test and npm run validate do)`);
  let text: string;
  try {
    text = execFileSync(kubectl, ['kustomize', dir], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl kustomize ${label} failed: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
  return parseYamlDocuments(text, label);
}

/** Every *.yaml directly in a folder (sub-folders are separate sets, as daprd's --resources-path reads them). */
export function loadYamlFolder(dir: string, root = process.cwd()): SourcedResource[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && statSync(join(dir, f)).isFile())
    .sort()
    .flatMap((f) => parseYamlDocuments(readFileSync(join(dir, f), 'utf8'), relative(root, join(dir, f)) || f));
}

export function loadYamlFile(file: string, root = process.cwd()): SourcedResource[] {
  return parseYamlDocuments(readFileSync(file, 'utf8'), relative(root, file) || file);
}

export interface Prerequisites {
  secrets: DeclaredSecret[];
  /** Dapr app ids outside these manifests that policies may name (callers in other deployments). */
  externalAppIds: string[];
  /** The prerequisites.yaml files that contributed, base first. */
  files: string[];
}

interface PrerequisitesFile {
  secrets?: { name: string; keys?: string[] }[];
  removeSecrets?: string[];
  externalAppIds?: string[];
}

/**
 * The prerequisites of a kustomization: its own prerequisites.yaml applied over those of the
 * kustomizations and components it builds on (resources/components entries that are folders), so an
 * overlay adds or removes (removeSecrets) entries of its base.
 */
export function loadPrerequisites(dir: string, visiting = new Set<string>()): Prerequisites {
  const abs = resolve(dir);
  if (visiting.has(abs)) return { secrets: [], externalAppIds: [], files: [] };
  visiting.add(abs);
  const kustomizationFile = KUSTOMIZATION_FILES.map((f) => join(abs, f)).find((f) => existsSync(f));
  const result: Prerequisites = { secrets: [], externalAppIds: [], files: [] };
  const merge = (p: Prerequisites) => {
    for (const s of p.secrets) if (!result.secrets.some((x) => x.name === s.name)) result.secrets.push(s);
    for (const a of p.externalAppIds) if (!result.externalAppIds.includes(a)) result.externalAppIds.push(a);
    result.files.push(...p.files);
  };
  if (kustomizationFile) {
    const k = (parse(readFileSync(kustomizationFile, 'utf8')) ?? {}) as {
      resources?: string[];
      components?: string[];
      bases?: string[];
    };
    for (const entry of [...(k.resources ?? []), ...(k.bases ?? []), ...(k.components ?? [])]) {
      const target = resolve(abs, entry);
      if (!/^[a-z]+:\/\//i.test(entry) && existsSync(target) && statSync(target).isDirectory())
        merge(loadPrerequisites(target, visiting));
    }
  }
  const own = join(abs, 'prerequisites.yaml');
  if (existsSync(own)) {
    const p = (parse(readFileSync(own, 'utf8')) ?? {}) as PrerequisitesFile;
    for (const name of p.removeSecrets ?? []) {
      const at = result.secrets.findIndex((s) => s.name === name);
      if (at < 0) throw new Error(`${own}: removeSecrets names "${name}", which no base declares`);
      result.secrets.splice(at, 1);
    }
    merge({
      secrets: (p.secrets ?? []).map((s) => ({ name: s.name, keys: s.keys })),
      externalAppIds: p.externalAppIds ?? [],
      files: [own],
    });
  }
  return result;
}

/** The app ids of a Dapr multi-app run file (dapr.yaml), for validating a self-hosted components folder. */
/** Walks up from `start` to the folder holding package.json with workspaces: the repository root. */
export function findRepoRoot(start = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown }).workspaces) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(start);
    dir = up;
  }
}
