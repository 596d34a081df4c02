import { closest, checkAnnotationValue, DAPR_ANNOTATIONS } from './dapr-annotations';
import { ComponentSpec, MetadataField, SchemaSet } from './schemas';

/**
 * Offline validation of Kubernetes and Dapr resources: each document against its strict schema
 * (../shared/schemas), each Dapr component's metadata against what its type declares, then the
 * checks no schema can make because they span documents (ports, names, scopes, secrets, credentials).
 * Returns problems instead of throwing, so a caller reports them all at once.
 */

export type Rule =
  | 'document'
  | 'duplicate'
  | 'schema'
  | 'unknown-kind'
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
  | 'ingress-backend';

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
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
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

export interface ValidateOptions {
  /** ../shared/schemas, or an already loaded SchemaSet (reused across calls). */
  schemas: string | SchemaSet;
  /**
   * kubernetes: rendered manifests (namespaces, the operator resolves component secrets from Kubernetes
   * Secrets). self-hosted: a components folder for daprd --resources-path (secrets come from a local store).
   */
  mode: 'kubernetes' | 'self-hosted';
  /** Secrets that exist outside these documents (prerequisites.yaml, or the local store's keys). */
  declaredSecrets?: DeclaredSecret[];
  /** Dapr app ids that exist besides the Dapr-enabled workloads in the documents (dapr.yaml apps, external callers). */
  appIds?: string[];
  /** Report declared secrets nothing references (default: true in kubernetes mode). */
  reportUnusedSecrets?: boolean;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asObject = (v: unknown): Json => (isObject(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Kinds that are not namespaced (the ones a deployment like this could contain). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'IngressClass',
  'PriorityClass',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);

/** Metadata daprd itself reads for every component of a category, on top of what the type declares. */
const RUNTIME_METADATA: Record<string, string[]> = {
  pubsub: ['consumerID', 'allowedTopics', 'protectedTopics', 'publishingScopes', 'subscriptionScopes'],
  bindings: ['direction', 'route'],
};

/** Names that say "this is a credential": such a value must come from a Secret, not a literal. */
const SECRET_NAME = /(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SAS_?KEY|SEED_?KEY|CLIENT_?KEY|CREDENTIAL|CERTIFICATE)/i;
/** For environment variables and ConfigMap keys, whose names are ours to choose, connection strings too. */
const SENSITIVE_NAME = new RegExp(`${SECRET_NAME.source}|CONNECTION_?STRING`, 'i');

/** Credentials recognisable in any string value. */
const CREDENTIAL_PATTERNS: [RegExp, string][] = [
  [/SharedAccessKey\s*=\s*[^;\s"]+/i, 'a shared access key (SharedAccessKey=...)'],
  [/AccountKey\s*=\s*[^;\s"]+/i, 'an account key (AccountKey=...)'],
  [/(^|[;\s])(password|pwd)\s*=\s*[^;\s]+/i, 'a password in a connection string'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i, 'a URL with a password (scheme://user:password@host)'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, 'a JSON Web Token'],
];

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const HTTP_VERBS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', '*']);

interface PodTemplate {
  owner: Resource;
  /** Path of the pod template inside the owner, e.g. /spec/template. */
  path: string;
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Json;
}

interface DaprApp {
  appId: string;
  namespace?: string;
  pod: PodTemplate;
}

/** The pod templates a resource runs (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod). */
function podTemplatesOf(r: Resource): PodTemplate[] {
  const spec = asObject(r.spec);
  const make = (path: string, template: unknown): PodTemplate[] => {
    const t = asObject(template);
    return [{ owner: r, path, meta: asObject(t.metadata) as PodTemplate['meta'], spec: asObject(t.spec) }];
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
      return [{ owner: r, path: '', meta: (r.metadata ?? {}) as PodTemplate['meta'], spec }];
    default:
      return [];
  }
}

const containersOf = (spec: Json) => [
  ...asArray(spec.initContainers).map((c, i) => ({ c: asObject(c), path: `initContainers/${i}` })),
  ...asArray(spec.containers).map((c, i) => ({ c: asObject(c), path: `containers/${i}` })),
];

const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Every string in a value, with its path. */
function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* strings(value[i], `${path}/${i}`);
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}/${k}`);
}

export function validateDocuments(input: (Resource | SourcedResource)[], options: ValidateOptions): Problem[] {
  const schemas = typeof options.schemas === 'string' ? new SchemaSet(options.schemas) : options.schemas;
  const k8s = options.mode === 'kubernetes';
  const items: SourcedResource[] = input.map((d) => (isObject(d) && 'resource' in d && isObject(d.resource) ? (d as unknown as SourcedResource) : { resource: d as Resource }));
  const problems: Problem[] = [];
  const sourceOf = new Map<Resource, string | undefined>(items.map((i) => [i.resource, i.source]));
  const idOf = (r: Resource) => `${r.kind ?? '?'}/${r.metadata?.name ?? '?'}`;
  const report = (rule: Rule, r: Resource, message: string, path?: string) =>
    problems.push({ rule, resource: idOf(r), message, ...(path ? { path } : {}), ...(sourceOf.get(r) ? { source: sourceOf.get(r) } : {}) });

  // ---- each document on its own: shape, duplicates, schema ---------------------------------------
  const docs: Resource[] = [];
  const seen = new Map<string, Resource>();
  for (const { resource: r } of items) {
    if (!isObject(r) || typeof r.apiVersion !== 'string' || typeof r.kind !== 'string' || typeof r.metadata?.name !== 'string') {
      report('document', isObject(r) ? r : {}, 'not a Kubernetes resource: apiVersion, kind and metadata.name are required');
      continue;
    }
    docs.push(r);
    const key = `${r.apiVersion.split('/')[0]}/${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
    if (seen.has(key)) report('duplicate', r, `declared twice${r.metadata.namespace ? ` in namespace ${r.metadata.namespace}` : ''}`);
    seen.set(key, r);

    const known = schemas.knows(r.apiVersion, r.kind);
    if (!known) {
      report('unknown-kind', r, `no schema for ${r.apiVersion} ${r.kind}: not a built-in Kubernetes kind nor a Dapr resource of that version`);
    } else if (known === 'crd-not-served') {
      report('schema', r, `${r.apiVersion} is not a served version of ${r.kind}`);
    } else {
      for (const e of schemas.validate(r as { apiVersion: string; kind: string })?.errors ?? []) report('schema', r, e.message, e.path);
    }
  }

  const ofKind = (kind: string) => docs.filter((r) => r.kind === kind);
  const named = (kind: string, name: string | undefined, namespace?: string) =>
    docs.find((r) => r.kind === kind && r.metadata?.name === name && (!k8s || (r.metadata?.namespace ?? '') === (namespace ?? '')));
  const components = ofKind('Component').filter((r) => r.apiVersion?.startsWith('dapr.io/'));
  const componentType = (r: Resource) => str(asObject(r.spec).type) ?? '';

  // ---- namespaces -----------------------------------------------------------------------------------
  if (k8s) {
    const namespaces = new Set(ofKind('Namespace').map((r) => r.metadata!.name!));
    for (const r of docs) {
      if (CLUSTER_SCOPED.has(r.kind!)) continue;
      const ns = r.metadata?.namespace;
      if (!ns) report('namespace', r, 'has no namespace: it would land in whatever namespace the kubectl context points at');
      else if (namespaces.size && !namespaces.has(ns)) report('namespace', r, `namespace "${ns}" is not one of the declared Namespaces (${[...namespaces].join(', ')})`);
    }
  }

  // ---- secrets: what exists, what is referenced -----------------------------------------------------
  const declared = new Map<string, { keys?: Set<string>; rendered: boolean }>();
  for (const s of options.declaredSecrets ?? []) declared.set(s.name, { keys: s.keys ? new Set(s.keys) : undefined, rendered: false });
  for (const s of ofKind('Secret')) {
    const keys = [...Object.keys(asObject(s.data)), ...Object.keys(asObject(s.stringData))];
    declared.set(s.metadata!.name!, { keys: new Set(keys), rendered: true });
    if (keys.length) report('plaintext-credential', s, 'a Secret with data in the manifests: credentials must not be committed; create it in the cluster (prerequisites.yaml) instead');
  }
  const usedSecrets = new Set<string>();
  const referenceSecret = (r: Resource, name: unknown, key: unknown, path: string, what: string) => {
    if (typeof name !== 'string' || !name) return report('secret-ref', r, `${what} names no Secret`, path);
    usedSecrets.add(name);
    const d = declared.get(name);
    if (!d) return report('secret-ref', r, `${what} references Secret "${name}", which is neither in the manifests nor declared (prerequisites.yaml)`, path);
    if (typeof key === 'string' && d.keys && !d.keys.has(key)) {
      report('secret-ref', r, `${what} references key "${key}" of Secret "${name}", which declares only: ${[...d.keys].join(', ') || '(none)'}`, path);
    }
  };

  const configMapKeys = new Map(ofKind('ConfigMap').map((c) => [`${c.metadata!.namespace ?? ''}/${c.metadata!.name}`, new Set(Object.keys(asObject(c.data)))]));
  const referenceConfigMap = (r: Resource, name: unknown, key: unknown, path: string, optional: boolean) => {
    if (optional) return;
    const keys = configMapKeys.get(`${r.metadata?.namespace ?? ''}/${String(name)}`);
    if (!keys) return report('config-ref', r, `references ConfigMap "${String(name)}", which is not in the manifests`, path);
    if (typeof key === 'string' && !keys.has(key)) report('config-ref', r, `references key "${key}" of ConfigMap "${String(name)}", which has no such key`, path);
  };

  // ---- workloads: containers, pods, Dapr annotations ------------------------------------------------
  const daprApps: DaprApp[] = [];
  for (const r of docs) {
    for (const key of Object.keys(r.metadata?.annotations ?? {})) {
      if (key.startsWith('dapr.io/') && r.kind !== 'Pod' && podTemplatesOf(r).length) {
        report('dapr-annotation', r, `${key} on the ${r.kind} itself has no effect: the sidecar injector reads the pod template's annotations`, '/metadata/annotations');
      }
    }
    for (const pod of podTemplatesOf(r)) {
      const at = (p: string) => `${pod.path}/spec/${p}`;
      const containers = containersOf(pod.spec);
      for (const { c, path } of containers) {
        const image = str(c.image) ?? '';
        const lastSegment = image.slice(image.lastIndexOf('/') + 1);
        if (!image.includes('@sha256:')) {
          if (!lastSegment.includes(':')) report('image-tag', r, `image "${image}" has no tag: pin a version`, at(`${path}/image`));
          else if (lastSegment.endsWith(':latest')) report('image-tag', r, `image "${image}" uses :latest: pin a version`, at(`${path}/image`));
        }
        asArray(c.env).forEach((e, i) => {
          const env = asObject(e);
          const envPath = at(`${path}/env/${i}`);
          const name = str(env.name) ?? '';
          const from = asObject(env.valueFrom);
          if (isObject(from.secretKeyRef) && from.secretKeyRef.optional !== true) {
            referenceSecret(r, from.secretKeyRef.name, from.secretKeyRef.key, envPath, `env ${name}`);
          }
          if (isObject(from.configMapKeyRef)) referenceConfigMap(r, from.configMapKeyRef.name, from.configMapKeyRef.key, envPath, from.configMapKeyRef.optional === true);
          if (typeof env.value === 'string' && env.value !== '' && SENSITIVE_NAME.test(name)) {
            report('plaintext-credential', r, `env ${name} is given in plain text: take it from a Secret (valueFrom.secretKeyRef)`, envPath);
          }
        });
        asArray(c.envFrom).forEach((e, i) => {
          const ef = asObject(e);
          if (isObject(ef.secretRef) && ef.secretRef.optional !== true) referenceSecret(r, ef.secretRef.name, undefined, at(`${path}/envFrom/${i}`), 'envFrom');
          if (isObject(ef.configMapRef)) referenceConfigMap(r, ef.configMapRef.name, undefined, at(`${path}/envFrom/${i}`), ef.configMapRef.optional === true);
        });
      }
      asArray(pod.spec.volumes).forEach((v, i) => {
        const vol = asObject(v);
        if (isObject(vol.secret) && vol.secret.optional !== true) referenceSecret(r, vol.secret.secretName, undefined, at(`volumes/${i}`), `volume ${String(vol.name)}`);
        if (isObject(vol.configMap)) referenceConfigMap(r, vol.configMap.name, undefined, at(`volumes/${i}`), vol.configMap.optional === true);
      });
      asArray(pod.spec.imagePullSecrets).forEach((s, i) => referenceSecret(r, asObject(s).name, undefined, at(`imagePullSecrets/${i}`), 'imagePullSecrets'));

      // Service account: declared, and annotated with a client id when the pod asks for workload identity.
      const saName = str(pod.spec.serviceAccountName);
      const sa = saName && saName !== 'default' ? named('ServiceAccount', saName, r.metadata?.namespace) : undefined;
      if (k8s && saName && saName !== 'default' && !sa) report('service-account', r, `serviceAccountName "${saName}" is not declared`, at('serviceAccountName'));
      if (k8s && pod.meta.labels?.['azure.workload.identity/use'] === 'true') {
        if (!sa) report('service-account', r, 'uses Azure workload identity (label azure.workload.identity/use) without a dedicated ServiceAccount', at('serviceAccountName'));
        else if (!sa.metadata?.annotations?.['azure.workload.identity/client-id']) {
          report('service-account', sa, 'is used with Azure workload identity but has no azure.workload.identity/client-id annotation', '/metadata/annotations');
        }
      }

      // Dapr annotations.
      const annotations = pod.meta.annotations ?? {};
      const annPath = `${pod.path}/metadata/annotations`;
      for (const [key, value] of Object.entries(annotations)) {
        if (!key.startsWith('dapr.io/')) continue;
        if (!(key in DAPR_ANNOTATIONS)) {
          const hint = closest(key, Object.keys(DAPR_ANNOTATIONS));
          report('dapr-annotation', r, `unknown Dapr annotation ${key}${hint ? ` (did you mean ${hint}?)` : ''}: the sidecar injector ignores it`, annPath);
          continue;
        }
        const bad = checkAnnotationValue(key, String(value));
        if (bad) report('dapr-annotation', r, `${key}: "${value}" ${bad}`, annPath);
      }
      if (annotations['dapr.io/enabled'] !== 'true') continue;
      const appId = annotations['dapr.io/app-id'];
      if (!appId) {
        report('app-id', r, 'dapr.io/enabled is "true" but dapr.io/app-id is missing: the app id would be the pod name', annPath);
        continue;
      }
      daprApps.push({ appId, namespace: r.metadata?.namespace, pod });
      const appPort = annotations['dapr.io/app-port'];
      if (appPort !== undefined) {
        const ports = containers
          .filter(({ path }) => path.startsWith('containers/'))
          .flatMap(({ c }) => asArray(c.ports).map((p) => ({ c, port: asObject(p).containerPort })));
        const match = ports.find((p) => String(p.port) === appPort);
        if (!match) {
          report('app-port', r, `dapr.io/app-port "${appPort}" is not a containerPort of the pod (${ports.map((p) => String(p.port)).join(', ') || 'none declared'})`, annPath);
        } else {
          const portEnv = asArray(match.c.env).map(asObject).find((e) => e.name === 'PORT' && typeof e.value === 'string');
          if (portEnv && portEnv.value !== appPort) report('app-port', r, `dapr.io/app-port "${appPort}" differs from the container's PORT "${String(portEnv.value)}"`, annPath);
        }
      }
      const config = annotations['dapr.io/config'];
      if (config !== undefined && !named('Configuration', config, r.metadata?.namespace)) {
        report('dapr-config', r, `dapr.io/config names Configuration "${config}", which is not declared${k8s ? ` in namespace ${r.metadata?.namespace ?? '(none)'}` : ''}`, annPath);
      }
      for (const key of ['dapr.io/app-token-secret', 'dapr.io/api-token-secret']) {
        if (annotations[key] !== undefined) referenceSecret(r, annotations[key], 'token', annPath, key);
      }
    }
  }

  // ---- Dapr app ids -----------------------------------------------------------------------------------
  const appIds = new Set([...daprApps.map((a) => a.appId), ...(options.appIds ?? [])]);
  const byAppId = new Map<string, DaprApp>();
  for (const app of daprApps) {
    const other = byAppId.get(app.appId);
    if (other && other.namespace === app.namespace) report('app-id', app.pod.owner, `app id "${app.appId}" is also used by ${idOf(other.pod.owner)}`);
    byAppId.set(app.appId, app);
  }
  const checkScopes = (r: Resource) => {
    asArray(r.scopes).forEach((s, i) => {
      if (typeof s === 'string' && !appIds.has(s)) {
        const hint = closest(s, appIds);
        report('scopes', r, `scope "${s}" names no Dapr app (known: ${[...appIds].join(', ') || 'none'})${hint ? `; did you mean ${hint}?` : ''}`, `/scopes/${i}`);
      }
    });
  };

  // ---- Dapr components ----------------------------------------------------------------------------------
  const secretStores = new Map(components.filter((c) => componentType(c).startsWith('secretstores.')).map((c) => [c.metadata!.name!, componentType(c)]));
  for (const c of components) {
    checkScopes(c);
    const spec = asObject(c.spec);
    const type = componentType(c);
    const version = str(spec.version) ?? '';
    const declaredSpec = schemas.component(type, version);
    if (!declaredSpec) {
      const versions = schemas.componentVersions(type);
      report('component-type', c, versions.length ? `${type} has no version ${version} (known: ${versions.join(', ')})` : `unknown component type ${type}: no metadata file for it in the schemas`, '/spec/type');
    }
    const store = str(asObject(c.auth).secretStore);
    if (store !== undefined && !secretStores.has(store) && !(k8s && store === 'kubernetes')) {
      report('secret-store', c, `auth.secretStore "${store}" names no secret store component`, '/auth/secretStore');
    }
    checkComponentMetadata(c, declaredSpec, type, store);
  }

  function checkComponentMetadata(c: Resource, spec: ComponentSpec | undefined, type: string, store: string | undefined) {
    const entries = asArray(asObject(c.spec).metadata).map(asObject);
    const names = new Set<string>();
    const allowed = new Map<string, MetadataField>();
    if (spec) {
      for (const f of [...spec.fields, ...spec.profiles.flatMap((p) => p.fields)]) {
        // A field may be required in one profile and optional in another: merge "sensitive" only.
        const prev = allowed.get(f.name);
        allowed.set(f.name, { ...f, sensitive: !!(f.sensitive || prev?.sensitive) });
      }
      for (const n of RUNTIME_METADATA[type.split('.')[0]!] ?? []) if (!allowed.has(n)) allowed.set(n, { name: n });
    }
    entries.forEach((e, i) => {
      const path = `/spec/metadata/${i}`;
      const name = str(e.name) ?? '';
      if (names.has(name)) report('component-metadata', c, `metadata "${name}" is given twice`, path);
      names.add(name);
      const sources = ['value', 'secretKeyRef', 'envRef'].filter((k) => e[k] !== undefined);
      if (sources.length !== 1) report('component-metadata', c, `metadata "${name}" needs exactly one of value, secretKeyRef, envRef (has ${sources.join(', ') || 'none'})`, path);
      const field = allowed.get(name);
      if (spec && !field) {
        const hint = closest(name, allowed.keys());
        report('component-metadata', c, `unknown metadata "${name}" for ${type}${hint ? ` (did you mean "${hint}"?)` : ''}: daprd would ignore it`, path);
      }
      if (isObject(e.secretKeyRef)) {
        const ref = e.secretKeyRef;
        if (k8s && (store === undefined || store === 'kubernetes' || secretStores.get(store) === 'secretstores.kubernetes')) {
          referenceSecret(c, ref.name, ref.key, path, `metadata "${name}"`);
        } else if (!k8s) {
          if (store === undefined) report('secret-store', c, `metadata "${name}" uses secretKeyRef but the component names no auth.secretStore`, path);
          else if (secretStores.get(store) === 'secretstores.local.file' || secretStores.get(store) === 'secretstores.local.env') {
            referenceSecret(c, ref.name, undefined, path, `metadata "${name}"`);
          }
        }
      }
      if (e.value !== undefined && e.value !== null && e.value !== '') {
        const value = String(e.value);
        // A field the type marks sensitive that is a secret by name (password, key, token...) must come from a
        // secret store. Sensitive fields that merely may hold one (url, connectionString) pass when the value
        // holds none: the credential patterns below catch user:password@, password=, SharedAccessKey=...
        // Fields named like a secret count whatever the type declares (bindings.postgres does not mark its
        // password sensitive); paths to a key or certificate file are not secrets.
        if (field?.sensitive ? SECRET_NAME.test(name) : SENSITIVE_NAME.test(name) && !/(File|Path)$/i.test(name)) {
          report('plaintext-credential', c, `metadata "${name}" is a credential given as a plain value: use secretKeyRef`, path);
        }
        if (field) {
          const bad = checkFieldValue(field, value);
          if (bad) report('component-metadata-value', c, `metadata "${name}": "${value}" ${bad}`, path);
        }
      }
    });
    if (!spec) return;
    for (const f of spec.fields) {
      if (f.required && !names.has(f.name)) report('component-metadata-required', c, `required metadata "${f.name}" of ${type} is missing`, '/spec/metadata');
    }
    if (spec.profiles.length) {
      const missingIn = (p: { fields: MetadataField[] }) => p.fields.filter((f) => f.required && !names.has(f.name)).map((f) => f.name);
      if (!spec.profiles.some((p) => missingIn(p).length === 0)) {
        // Name the profile the component is closest to using: the most of its fields present.
        const scored = spec.profiles.map((p) => ({ p, used: p.fields.filter((f) => names.has(f.name)).length, missing: missingIn(p) }));
        scored.sort((a, b) => b.used - a.used || a.missing.length - b.missing.length);
        const best = scored[0]!;
        report(
          'component-metadata-required',
          c,
          `no authentication profile of ${type} is complete: closest is "${best.p.title}", which also requires ${best.missing.map((m) => `"${m}"`).join(', ')}`,
          '/spec/metadata',
        );
      }
    }
  }

  // ---- Configurations: access control, secret scopes ---------------------------------------------------
  for (const conf of ofKind('Configuration').filter((r) => r.apiVersion?.startsWith('dapr.io/'))) {
    const spec = asObject(conf.spec);
    const acl = asObject(spec.accessControl);
    const checkAction = (v: unknown, path: string) => {
      if (v !== undefined && v !== 'allow' && v !== 'deny') report('access-control', conf, `action "${String(v)}" must be allow or deny`, path);
    };
    checkAction(acl.defaultAction, '/spec/accessControl/defaultAction');
    asArray(acl.policies).forEach((p, i) => {
      const policy = asObject(p);
      const path = `/spec/accessControl/policies/${i}`;
      const appId = str(policy.appId) ?? '';
      if (!appIds.has(appId)) {
        report('access-control', conf, `policy for app id "${appId}", which is no Dapr app here (known: ${[...appIds].join(', ') || 'none'})`, path);
      }
      const app = byAppId.get(appId);
      if (k8s && app && (str(policy.namespace) ?? 'default') !== (app.namespace ?? 'default')) {
        report('access-control', conf, `policy for "${appId}" says namespace "${str(policy.namespace) ?? '(default)'}" but the app runs in "${app.namespace}"`, path);
      }
      checkAction(policy.defaultAction, `${path}/defaultAction`);
      asArray(policy.operations).forEach((o, j) => {
        const op = asObject(o);
        checkAction(op.action, `${path}/operations/${j}/action`);
        if (typeof op.name === 'string' && !op.name.startsWith('/')) report('access-control', conf, `operation "${op.name}" must start with /`, `${path}/operations/${j}/name`);
        for (const verb of asArray(op.httpVerb)) {
          if (!HTTP_VERBS.has(String(verb))) report('access-control', conf, `httpVerb "${String(verb)}" is not an HTTP method`, `${path}/operations/${j}/httpVerb`);
        }
      });
    });
    asArray(asObject(spec.secrets).scopes).forEach((s, i) => {
      const storeName = str(asObject(s).storeName) ?? '';
      if (!secretStores.has(storeName) && !(k8s && storeName === 'kubernetes')) {
        report('secret-store', conf, `secret scope for store "${storeName}", which is not declared`, `/spec/secrets/scopes/${i}`);
      }
    });
  }

  // ---- Subscriptions --------------------------------------------------------------------------------------
  for (const sub of ofKind('Subscription').filter((r) => r.apiVersion?.startsWith('dapr.io/'))) {
    checkScopes(sub);
    const spec = asObject(sub.spec);
    const pubsub = components.find((c) => c.metadata?.name === spec.pubsubname && (!k8s || c.metadata?.namespace === sub.metadata?.namespace));
    if (!pubsub || !componentType(pubsub).startsWith('pubsub.')) {
      report('subscription', sub, `pubsubname "${String(spec.pubsubname)}" names no pub/sub component`, '/spec/pubsubname');
    } else {
      const componentScopes = asArray(pubsub.scopes);
      for (const s of asArray(sub.scopes)) {
        if (componentScopes.length && !componentScopes.includes(s)) {
          report('subscription', sub, `app "${String(s)}" subscribes through "${String(spec.pubsubname)}" but the component is not scoped to it`, '/scopes');
        }
      }
    }
    if (spec.deadLetterTopic !== undefined && spec.deadLetterTopic === spec.topic) {
      report('subscription', sub, 'deadLetterTopic is the subscribed topic itself: refused events would loop', '/spec/deadLetterTopic');
    }
    const routes = asObject(spec.routes);
    if (!routes.default && !asArray(routes.rules).length) report('subscription', sub, 'routes has neither a default route nor rules', '/spec/routes');
    for (const p of [routes.default, ...asArray(routes.rules).map((x) => asObject(x).path)]) {
      if (typeof p === 'string' && !p.startsWith('/')) report('subscription', sub, `route "${p}" must start with /`, '/spec/routes');
    }
  }

  // ---- Resiliency -----------------------------------------------------------------------------------------
  for (const res of ofKind('Resiliency').filter((r) => r.apiVersion?.startsWith('dapr.io/'))) {
    checkScopes(res);
    const spec = asObject(res.spec);
    const policies = asObject(spec.policies);
    const names = {
      timeout: new Set(Object.keys(asObject(policies.timeouts))),
      retry: new Set(Object.keys(asObject(policies.retries))),
      circuitBreaker: new Set(Object.keys(asObject(policies.circuitBreakers))),
    };
    const checkRefs = (target: Json, path: string) => {
      for (const kind of ['timeout', 'retry', 'circuitBreaker'] as const) {
        const ref = target[kind];
        if (ref === undefined) continue;
        if (typeof ref !== 'string' || (!names[kind].has(ref) && !(kind === 'timeout' && DURATION.test(ref)))) {
          report('resiliency', res, `${kind} "${String(ref)}" names no ${kind} policy`, `${path}/${kind}`);
        }
      }
    };
    const targets = asObject(spec.targets);
    for (const [name, t] of Object.entries(asObject(targets.components))) {
      if (!components.some((c) => c.metadata?.name === name && (!k8s || c.metadata?.namespace === res.metadata?.namespace))) {
        report('resiliency', res, `target component "${name}" is not declared`, `/spec/targets/components/${name}`);
      }
      checkRefs(asObject(asObject(t).outbound), `/spec/targets/components/${name}/outbound`);
      checkRefs(asObject(asObject(t).inbound), `/spec/targets/components/${name}/inbound`);
    }
    for (const [name, t] of Object.entries(asObject(targets.apps))) {
      if (!appIds.has(name)) report('resiliency', res, `target app "${name}" is no Dapr app here`, `/spec/targets/apps/${name}`);
      checkRefs(asObject(t), `/spec/targets/apps/${name}`);
    }
    for (const [name, t] of Object.entries(asObject(targets.actors))) checkRefs(asObject(t), `/spec/targets/actors/${name}`);
  }

  // ---- Services, PodDisruptionBudgets, HorizontalPodAutoscalers, Ingresses --------------------------
  const pods = docs.flatMap(podTemplatesOf);
  const podsIn = (ns: string | undefined) => pods.filter((p) => !k8s || p.owner.metadata?.namespace === ns);
  for (const svc of ofKind('Service')) {
    const spec = asObject(svc.spec);
    const selector = spec.selector as Record<string, string> | undefined;
    if (!selector || spec.type === 'ExternalName') continue;
    const matching = podsIn(svc.metadata?.namespace).filter((p) => labelsMatch(selector, p.meta.labels) && p.owner.kind !== 'Job');
    if (!matching.length) {
      report('selector', svc, `selector ${JSON.stringify(selector)} matches no pod template`, '/spec/selector');
      continue;
    }
    asArray(spec.ports).forEach((p, i) => {
      const target = asObject(p).targetPort;
      if (typeof target !== 'string') return;
      const found = matching.some((m) => containersOf(m.spec).some(({ c }) => asArray(c.ports).some((cp) => asObject(cp).name === target)));
      if (!found) report('selector', svc, `targetPort "${target}" is no named port of the selected pods`, `/spec/ports/${i}/targetPort`);
    });
  }
  for (const pdb of ofKind('PodDisruptionBudget')) {
    const selector = asObject(asObject(pdb.spec).selector).matchLabels as Record<string, string> | undefined;
    if (!podsIn(pdb.metadata?.namespace).some((p) => labelsMatch(selector, p.meta.labels))) {
      report('selector', pdb, 'selector.matchLabels matches no pod template', '/spec/selector');
    }
  }
  for (const hpa of ofKind('HorizontalPodAutoscaler')) {
    const ref = asObject(asObject(hpa.spec).scaleTargetRef);
    if (!named(String(ref.kind), str(ref.name), hpa.metadata?.namespace)) {
      report('selector', hpa, `scaleTargetRef ${String(ref.kind)}/${String(ref.name)} is not declared`, '/spec/scaleTargetRef');
    }
  }
  for (const ing of ofKind('Ingress')) {
    const spec = asObject(ing.spec);
    const backends: [Json, string][] = [];
    if (isObject(spec.defaultBackend)) backends.push([spec.defaultBackend, '/spec/defaultBackend']);
    asArray(spec.rules).forEach((rule, i) =>
      asArray(asObject(asObject(rule).http).paths).forEach((p, j) => backends.push([asObject(asObject(p).backend), `/spec/rules/${i}/http/paths/${j}/backend`])),
    );
    for (const [backend, path] of backends) {
      const service = asObject(backend.service);
      if (!service.name) continue;
      const name = String(service.name);
      const port = asObject(service.port);
      const declaredService = named('Service', name, ing.metadata?.namespace);
      // The Dapr operator creates <app-id>-dapr for each Dapr app (port 80 -> daprd HTTP).
      const daprApp = name.endsWith('-dapr') ? byAppId.get(name.slice(0, -'-dapr'.length)) : undefined;
      if (daprApp && (!k8s || daprApp.namespace === ing.metadata?.namespace)) {
        if (port.number !== undefined && port.number !== 80) report('ingress-backend', ing, `${name} (created by Dapr) serves the sidecar's HTTP API on port 80, not ${String(port.number)}`, path);
      } else if (!declaredService) {
        report('ingress-backend', ing, `backend Service "${name}" is neither declared nor the <app-id>-dapr Service of a Dapr app here`, path);
      } else if (port.number !== undefined && !asArray(asObject(declaredService.spec).ports).some((p) => asObject(p).port === port.number)) {
        report('ingress-backend', ing, `backend Service "${name}" has no port ${String(port.number)}`, path);
      }
    }
    asArray(spec.tls).forEach((t, i) => {
      const secretName = asObject(t).secretName;
      if (secretName !== undefined) referenceSecret(ing, secretName, undefined, `/spec/tls/${i}/secretName`, 'TLS');
    });
  }

  // ---- credentials in plain text, anywhere ------------------------------------------------------------
  for (const cm of ofKind('ConfigMap')) {
    for (const [key, value] of Object.entries(asObject(cm.data))) {
      if (typeof value === 'string' && value !== '' && SENSITIVE_NAME.test(key)) {
        report('plaintext-credential', cm, `key ${key} looks like a credential: keep it in a Secret, not a ConfigMap`, `/data/${key}`);
      }
    }
  }
  for (const r of docs) {
    if (r.kind === 'Secret') continue;
    for (const [path, value] of strings(r, '')) {
      for (const [pattern, what] of CREDENTIAL_PATTERNS) {
        if (pattern.test(value)) {
          report('plaintext-credential', r, `${what} in plain text`, path);
          break;
        }
      }
    }
  }

  // ---- declared secrets nothing uses --------------------------------------------------------------------
  if (options.reportUnusedSecrets ?? k8s) {
    for (const s of options.declaredSecrets ?? []) {
      if (!usedSecrets.has(s.name)) {
        problems.push({ rule: 'secret-ref', resource: `Secret/${s.name}`, message: `declared (prerequisites.yaml) but referenced by nothing: remove it from the list` });
      }
    }
  }
  return problems;
}

function checkFieldValue(field: MetadataField, value: string): string | undefined {
  if (field.allowedValues?.length && !field.allowedValues.map(String).includes(value)) return `is not one of ${field.allowedValues.join(', ')}`;
  switch (field.type) {
    case 'bool':
      return /^(true|false|1|0)$/i.test(value) ? undefined : 'must be true or false';
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(value) ? undefined : 'must be a number';
    case 'duration':
      return DURATION.test(value) || /^\d+$/.test(value) ? undefined : 'must be a duration such as 10s';
    default:
      return undefined;
  }
}

/** One line per problem, for people. */
export function formatProblem(p: Problem): string {
  return `${p.source ? `${p.source}: ` : ''}${p.resource}${p.path ? ` ${p.path}` : ''}: [${p.rule}] ${p.message}`;
}
