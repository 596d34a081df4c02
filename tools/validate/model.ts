/** The shapes the validator works on, and small helpers to read untyped Kubernetes documents. */

export type Rule =
  | 'document'
  | 'duplicate'
  | 'schema'
  | 'namespace'
  | 'component-type'
  | 'component-metadata'
  | 'component-metadata-required'
  | 'component-metadata-value'
  | 'dapr-annotation'
  | 'app-id'
  | 'app-port'
  | 'dapr-config'
  | 'scopes'
  | 'access-control'
  | 'subscription'
  | 'resiliency'
  | 'secret-ref'
  | 'secret-store'
  | 'config-ref'
  | 'plaintext-credential'
  | 'image-tag'
  | 'selector'
  | 'service-account'
  | 'workload-identity'
  | 'delivery'
  | 'database-connections';

export interface Problem {
  rule: Rule;
  /** Kind/name of the resource, e.g. Deployment/catalog. */
  resource: string;
  /** Where in the resource, as a slash path, when it helps. */
  path?: string;
  message: string;
  /** The file or kustomization the resource came from. */
  source?: string;
}

export interface Resource {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface SourcedResource {
  resource: Resource;
  source?: string;
}

/** A Secret the resources use without containing it (k8s: created by hand; self-hosted: a key of the local secret store). */
export interface DeclaredSecret {
  name: string;
  /** The keys it holds; when given, references to other keys fail. */
  keys?: string[];
}

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asObject = (v: unknown): Json => (isObject(v) ? v : {});
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A resource the rules check: one with an apiVersion, a kind and a name (the Context keeps only those). */
export interface NamedResource extends Resource {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<Resource['metadata']> & { name: string };
}

export const isNamedResource = (r: unknown): r is NamedResource =>
  isObject(r) &&
  typeof r.apiVersion === 'string' &&
  typeof r.kind === 'string' &&
  isObject(r.metadata) &&
  typeof r.metadata.name === 'string';

export interface PodTemplate {
  owner: Resource;
  /** Path of the pod template inside the owner, e.g. /spec/template. */
  path: string;
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Json;
}

/** The pod templates a resource runs (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod). */
export function podTemplatesOf(r: Resource): PodTemplate[] {
  const spec = asObject(r.spec);
  const make = (path: string, template: unknown): PodTemplate[] => {
    const t = asObject(template);
    return [{ owner: r, path, meta: asObject(t.metadata), spec: asObject(t.spec) }];
  };
  switch (r.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return make('/spec/template', spec.template);
    case 'CronJob':
      return make('/spec/jobTemplate/spec/template', asObject(asObject(spec.jobTemplate).spec).template);
    case 'Pod':
      return [{ owner: r, path: '', meta: r.metadata ?? {}, spec }];
    default:
      return [];
  }
}

/** Init containers and containers of a pod spec, each with its path inside the spec. */
export const containersOf = (spec: Json) => [
  ...asArray(spec.initContainers).map((c, i) => ({ c: asObject(c), path: `initContainers/${i}` })),
  ...asArray(spec.containers).map((c, i) => ({ c: asObject(c), path: `containers/${i}` })),
];

export const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Every string in a value, with its path. */
export function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* strings(value[i], `${path}/${i}`);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}/${k}`);
}

export const idOf = (r: Resource) => `${r.kind ?? '?'}/${r.metadata?.name ?? '?'}`;

/** One line per problem, for people. */
export function formatProblem(p: Problem): string {
  return `${p.source ? `${p.source}: ` : ''}${p.resource}${p.path ? ` ${p.path}` : ''}: [${p.rule}] ${p.message}`;
}
