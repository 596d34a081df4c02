import { DEFAULT_PLAN_OPTIONS, isoDurationSeconds } from '../asb/provision';
import { databaseConnections } from './capacity';
import { checkAnnotationValue, closest } from './dapr-annotations';
import type { ComponentSpec, MetadataField, RetryHorizon } from './dapr-facts';
import type { Context, DaprApp } from './context';
import {
  asArray,
  asObject,
  containersOf,
  idOf,
  isNamedResource,
  isObject,
  Json,
  labelsMatch,
  podTemplatesOf,
  Resource,
  str,
  strings,
} from './model';

/**
 * What only this project knows about its manifests: how the Kubernetes objects and the Dapr resources
 * fit together (names, ports, scopes, secrets, identities, credentials). Whether each object is valid
 * on its own is the API server's to say (server.ts: strict field validation against the real schemas
 * and the Dapr CRDs). Each rule reads the context and reports; they run in the order of RULES.
 */
export type RuleFn = (ctx: Context) => void;

/** Metadata daprd itself reads for every component of a category, on top of what the type declares. */
const RUNTIME_METADATA: Record<string, string[]> = {
  pubsub: ['consumerID', 'allowedTopics', 'protectedTopics', 'publishingScopes', 'subscriptionScopes'],
  bindings: ['direction', 'route'],
};

/** Names that say "this is a credential": such a value must come from a Secret, not a literal. */
const SECRET_NAME =
  /(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SAS_?KEY|SEED_?KEY|CLIENT_?KEY|CREDENTIAL|CERTIFICATE)/i;
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

const appIdHint = (ctx: Context) => (name: string) => closest(name, ctx.appIds);

/** A YAML value as text for a message: scalars as they are, anything else as JSON. */
const scalar = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

export const documentShape: RuleFn = (ctx) => {
  const seen = new Set<string>();
  for (const { resource: r } of ctx.items) {
    if (!isNamedResource(r)) {
      ctx.report(
        'document',
        isObject(r) ? r : {},
        'not a Kubernetes resource: apiVersion, kind and metadata.name are required',
      );
      continue;
    }
    const { namespace, name } = r.metadata;
    const key = `${r.apiVersion.split('/')[0]}/${r.kind}/${namespace ?? ''}/${name}`;
    if (seen.has(key)) ctx.report('duplicate', r, `declared twice${namespace ? ` in namespace ${namespace}` : ''}`);
    seen.add(key);
  }
};

export const namespaces: RuleFn = (ctx) => {
  if (!ctx.k8s) return;
  const declared = new Set(ctx.ofKind('Namespace').map((r) => r.metadata.name));
  for (const r of ctx.docs) {
    if (CLUSTER_SCOPED.has(r.kind)) continue;
    const ns = r.metadata?.namespace;
    if (!ns)
      ctx.report('namespace', r, 'has no namespace: it would land in whatever namespace the kubectl context points at');
    else if (declared.size && !declared.has(ns))
      ctx.report(
        'namespace',
        r,
        `namespace "${ns}" is not one of the declared Namespaces (${[...declared].join(', ')})`,
      );
  }
};

export const noCommittedSecrets: RuleFn = (ctx) => {
  for (const s of ctx.ofKind('Secret')) {
    if (Object.keys(asObject(s.data)).length || Object.keys(asObject(s.stringData)).length) {
      ctx.report(
        'plaintext-credential',
        s,
        'a Secret with data in the manifests: credentials must not be committed; create it in the cluster (prerequisites.yaml) instead',
      );
    }
  }
};

/** Secrets and ConfigMaps a pod refers to exist, with the keys asked for; credentials are not literals. */
export const podReferences: RuleFn = (ctx) => {
  for (const pod of ctx.podTemplates) {
    const r = pod.owner;
    const at = (p: string) => `${pod.path}/spec/${p}`;
    for (const { c, path } of containersOf(pod.spec)) {
      asArray(c.env).forEach((e, i) => {
        const env = asObject(e);
        const envPath = at(`${path}/env/${i}`);
        const name = str(env.name) ?? '';
        const from = asObject(env.valueFrom);
        if (isObject(from.secretKeyRef) && from.secretKeyRef.optional !== true)
          ctx.referenceSecret(r, from.secretKeyRef.name, from.secretKeyRef.key, envPath, `env ${name}`);
        if (isObject(from.configMapKeyRef) && from.configMapKeyRef.optional !== true)
          ctx.referenceConfigMap(r, from.configMapKeyRef.name, from.configMapKeyRef.key, envPath);
        if (typeof env.value === 'string' && env.value !== '' && SENSITIVE_NAME.test(name)) {
          ctx.report(
            'plaintext-credential',
            r,
            `env ${name} is given in plain text: take it from a Secret (valueFrom.secretKeyRef)`,
            envPath,
          );
        }
      });
      asArray(c.envFrom).forEach((e, i) => {
        const ef = asObject(e);
        if (isObject(ef.secretRef) && ef.secretRef.optional !== true)
          ctx.referenceSecret(r, ef.secretRef.name, undefined, at(`${path}/envFrom/${i}`), 'envFrom');
        if (isObject(ef.configMapRef) && ef.configMapRef.optional !== true)
          ctx.referenceConfigMap(r, ef.configMapRef.name, undefined, at(`${path}/envFrom/${i}`));
      });
    }
    asArray(pod.spec.volumes).forEach((v, i) => {
      const vol = asObject(v);
      if (isObject(vol.secret) && vol.secret.optional !== true)
        ctx.referenceSecret(r, vol.secret.secretName, undefined, at(`volumes/${i}`), `volume ${String(vol.name)}`);
      if (isObject(vol.configMap) && vol.configMap.optional !== true)
        ctx.referenceConfigMap(r, vol.configMap.name, undefined, at(`volumes/${i}`));
    });
    asArray(pod.spec.imagePullSecrets).forEach((s, i) =>
      ctx.referenceSecret(r, asObject(s).name, undefined, at(`imagePullSecrets/${i}`), 'imagePullSecrets'),
    );
  }
};

export const pinnedImages: RuleFn = (ctx) => {
  for (const pod of ctx.podTemplates) {
    for (const { c, path } of containersOf(pod.spec)) {
      const image = str(c.image) ?? '';
      if (image.includes('@sha256:')) continue;
      const lastSegment = image.slice(image.lastIndexOf('/') + 1);
      const at = `${pod.path}/spec/${path}/image`;
      if (!lastSegment.includes(':'))
        ctx.report('image-tag', pod.owner, `image "${image}" has no tag: pin a version`, at);
      else if (lastSegment.endsWith(':latest'))
        ctx.report('image-tag', pod.owner, `image "${image}" uses :latest: pin a version`, at);
    }
  }
};

/** A pod's ServiceAccount is declared, and annotated with a client id when the pod asks for workload identity. */
export const serviceAccounts: RuleFn = (ctx) => {
  if (!ctx.k8s) return;
  for (const pod of ctx.podTemplates) {
    const r = pod.owner;
    const saName = str(pod.spec.serviceAccountName);
    const sa = saName && saName !== 'default' ? ctx.named('ServiceAccount', saName, r.metadata?.namespace) : undefined;
    const at = `${pod.path}/spec/serviceAccountName`;
    if (saName && saName !== 'default' && !sa)
      ctx.report('service-account', r, `serviceAccountName "${saName}" is not declared`, at);
    if (pod.meta.labels?.['azure.workload.identity/use'] !== 'true') continue;
    if (!sa)
      ctx.report(
        'service-account',
        r,
        'uses Azure workload identity (label azure.workload.identity/use) without a dedicated ServiceAccount',
        at,
      );
    else if (!sa.metadata?.annotations?.['azure.workload.identity/client-id']) {
      ctx.report(
        'service-account',
        sa,
        'is used with Azure workload identity but has no azure.workload.identity/client-id annotation',
        '/metadata/annotations',
      );
    }
  }
};

/** Every dapr.io/ annotation is one the injector reads, on a pod template, with a value it can parse. */
export const daprAnnotations: RuleFn = (ctx) => {
  const known = ctx.options.facts.annotations;
  for (const r of ctx.docs) {
    if (r.kind === 'Pod' || !podTemplatesOf(r).length) continue;
    for (const key of Object.keys(r.metadata?.annotations ?? {})) {
      if (key.startsWith('dapr.io/'))
        ctx.report(
          'dapr-annotation',
          r,
          `${key} on the ${r.kind} itself has no effect: the sidecar injector reads the pod template's annotations`,
          '/metadata/annotations',
        );
    }
  }
  for (const pod of ctx.podTemplates) {
    const annotations = pod.meta.annotations ?? {};
    const at = `${pod.path}/metadata/annotations`;
    for (const [key, value] of Object.entries(annotations)) {
      if (!key.startsWith('dapr.io/')) continue;
      const type = known.get(key);
      if (!type) {
        const hint = closest(key, known.keys());
        ctx.report(
          'dapr-annotation',
          pod.owner,
          `unknown Dapr annotation ${key}${hint ? ` (did you mean ${hint}?)` : ''}: the sidecar injector ignores it`,
          at,
        );
        continue;
      }
      const bad = checkAnnotationValue(key, type, String(value));
      if (bad) ctx.report('dapr-annotation', pod.owner, `${key}: "${value}" ${bad}`, at);
    }
    if (annotations['dapr.io/enabled'] === 'true' && !annotations['dapr.io/app-id']) {
      ctx.report(
        'app-id',
        pod.owner,
        'dapr.io/enabled is "true" but dapr.io/app-id is missing: the app id would be the pod name',
        at,
      );
    }
  }
};

/** The app port is a port the app's containers declare, and the one the app is told to listen on. */
export const appPorts: RuleFn = (ctx) => {
  for (const { pod } of ctx.daprApps) {
    const appPort = pod.meta.annotations?.['dapr.io/app-port'];
    if (appPort === undefined) continue;
    const at = `${pod.path}/metadata/annotations`;
    const ports = asArray(pod.spec.containers).flatMap((c) =>
      asArray(asObject(c).ports).map((p) => ({ c: asObject(c), port: asObject(p).containerPort })),
    );
    const match = ports.find((p) => String(p.port) === appPort);
    if (!match) {
      ctx.report(
        'app-port',
        pod.owner,
        `dapr.io/app-port "${appPort}" is not a containerPort of the pod (${ports.map((p) => String(p.port)).join(', ') || 'none declared'})`,
        at,
      );
      continue;
    }
    const portEnv = asArray(match.c.env)
      .map(asObject)
      .find((e) => e.name === 'PORT' && typeof e.value === 'string');
    if (portEnv && portEnv.value !== appPort)
      ctx.report(
        'app-port',
        pod.owner,
        `dapr.io/app-port "${appPort}" differs from the container's PORT "${String(portEnv.value)}"`,
        at,
      );
  }
};

/** The Configuration and the token Secrets a sidecar is given exist; no two workloads share an app id. */
export const sidecarReferences: RuleFn = (ctx) => {
  const byAppId = new Map<string, Resource>();
  for (const { appId, namespace, pod } of ctx.daprApps) {
    const annotations = pod.meta.annotations ?? {};
    const at = `${pod.path}/metadata/annotations`;
    const config = annotations['dapr.io/config'];
    if (config !== undefined && !ctx.named('Configuration', config, namespace)) {
      ctx.report(
        'dapr-config',
        pod.owner,
        `dapr.io/config names Configuration "${config}", which is not declared${ctx.k8s ? ` in namespace ${namespace ?? '(none)'}` : ''}`,
        at,
      );
    }
    for (const key of ['dapr.io/app-token-secret', 'dapr.io/api-token-secret']) {
      if (annotations[key] !== undefined) ctx.referenceSecret(pod.owner, annotations[key], 'token', at, key);
    }
    const other = byAppId.get(`${namespace}/${appId}`);
    if (other) ctx.report('app-id', pod.owner, `app id "${appId}" is also used by ${idOf(other)}`);
    byAppId.set(`${namespace}/${appId}`, pod.owner);
  }
};

function checkFieldValue(field: MetadataField, value: string): string | undefined {
  if (field.allowedValues?.length && !field.allowedValues.map(String).includes(value))
    return `is not one of ${field.allowedValues.join(', ')}`;
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

/** The metadata a type accepts: its own, its authentication profiles', and what daprd reads for every one of its category. */
function acceptedFields(spec: ComponentSpec, type: string): Map<string, MetadataField> {
  const allowed = new Map<string, MetadataField>();
  for (const f of [...spec.fields, ...spec.profiles.flatMap((p) => p.fields)]) {
    // A field may be required in one profile and optional in another: merge "sensitive" only.
    allowed.set(f.name, { ...f, sensitive: f.sensitive === true || allowed.get(f.name)?.sensitive === true });
  }
  for (const n of RUNTIME_METADATA[type.split('.')[0] ?? ''] ?? []) if (!allowed.has(n)) allowed.set(n, { name: n });
  return allowed;
}

/** A required field missing, or no authentication profile complete. */
function checkRequired(ctx: Context, c: Resource, spec: ComponentSpec, type: string, names: Set<string>): void {
  for (const f of spec.fields) {
    if (f.required && !names.has(f.name))
      ctx.report(
        'component-metadata-required',
        c,
        `required metadata "${f.name}" of ${type} is missing`,
        '/spec/metadata',
      );
  }
  if (!spec.profiles.length) return;
  const missingIn = (p: { fields: MetadataField[] }) =>
    p.fields.filter((f) => f.required && !names.has(f.name)).map((f) => f.name);
  if (spec.profiles.some((p) => missingIn(p).length === 0)) return;
  // Name the profile the component is closest to using: the most of its fields present.
  const scored = spec.profiles.map((p) => ({
    p,
    used: p.fields.filter((f) => names.has(f.name)).length,
    missing: missingIn(p),
  }));
  const [best] = scored.sort((a, b) => b.used - a.used || a.missing.length - b.missing.length);
  if (!best) return;
  ctx.report(
    'component-metadata-required',
    c,
    `no authentication profile of ${type} is complete: closest is "${best.p.title}", which also requires ${best.missing.map((m) => `"${m}"`).join(', ')}`,
    '/spec/metadata',
  );
}

/** A component's secret reference points at a secret its store holds. */
function checkSecretRef(ctx: Context, c: Resource, ref: Json, name: string, path: string): void {
  const store = str(asObject(c.auth).secretStore);
  const storeType = store === undefined ? undefined : ctx.secretStores.get(store);
  if (ctx.k8s && (store === undefined || store === 'kubernetes' || storeType === 'secretstores.kubernetes'))
    return ctx.referenceSecret(c, ref.name, ref.key, path, `metadata "${name}"`);
  if (ctx.k8s) return;
  if (store === undefined)
    ctx.report(
      'secret-store',
      c,
      `metadata "${name}" uses secretKeyRef but the component names no auth.secretStore`,
      path,
    );
  else if (storeType === 'secretstores.local.file' || storeType === 'secretstores.local.env')
    ctx.referenceSecret(c, ref.name, undefined, path, `metadata "${name}"`);
}

/** Each component is a type of the pinned components-contrib, and its metadata is what that type reads. */
export const componentMetadata: RuleFn = (ctx) => {
  for (const c of ctx.components) {
    const type = ctx.componentType(c);
    const declared = declaredType(ctx, c, type);
    checkSecretStoreName(ctx, c);
    const accepted = declared && acceptedFields(declared, type);
    const names = new Set<string>();
    asArray(asObject(c.spec).metadata)
      .map(asObject)
      .forEach((e, i) => {
        const path = `/spec/metadata/${i}`;
        const name = str(e.name) ?? '';
        if (names.has(name)) ctx.report('component-metadata', c, `metadata "${name}" is given twice`, path);
        names.add(name);
        checkMetadataEntry(ctx, c, e, path, { type, accepted });
      });
    if (declared) checkRequired(ctx, c, declared, type, names);
  }
};

/** What components-contrib declares for the component's type and version; reported when it declares nothing. */
function declaredType(ctx: Context, c: Resource, type: string): ComponentSpec | undefined {
  const version = str(asObject(c.spec).version) ?? '';
  const declared = ctx.options.facts.component(type, version);
  if (!declared) {
    const versions = ctx.options.facts.componentVersions(type);
    ctx.report(
      'component-type',
      c,
      versions.length
        ? `${type} has no version ${version} (known: ${versions.join(', ')})`
        : `unknown component type ${type}: components-contrib declares no metadata for it`,
      '/spec/type',
    );
  }
  return declared;
}

/** auth.secretStore, when given, names a secret store component (or Kubernetes', there). */
function checkSecretStoreName(ctx: Context, c: Resource): void {
  const store = str(asObject(c.auth).secretStore);
  if (store !== undefined && !ctx.isSecretStore(store)) {
    ctx.report('secret-store', c, `auth.secretStore "${store}" names no secret store component`, '/auth/secretStore');
  }
}

/**
 * One metadata entry: exactly one source, a name the type reads (`accepted`: undefined for a type
 * components-contrib does not declare), a secret reference that resolves, a value that fits.
 */
function checkMetadataEntry(
  ctx: Context,
  c: Resource,
  e: Json,
  path: string,
  { type, accepted }: { type: string; accepted: Map<string, MetadataField> | undefined },
): void {
  const name = str(e.name) ?? '';
  const sources = ['value', 'secretKeyRef', 'envRef'].filter((k) => e[k] !== undefined);
  if (sources.length !== 1)
    ctx.report(
      'component-metadata',
      c,
      `metadata "${name}" needs exactly one of value, secretKeyRef, envRef (has ${sources.join(', ') || 'none'})`,
      path,
    );
  const field = accepted?.get(name);
  if (accepted && !field) {
    const hint = closest(name, accepted.keys());
    ctx.report(
      'component-metadata',
      c,
      `unknown metadata "${name}" for ${type}${hint ? ` (did you mean "${hint}"?)` : ''}: daprd would ignore it`,
      path,
    );
  }
  if (isObject(e.secretKeyRef)) checkSecretRef(ctx, c, e.secretKeyRef, name, path);
  if (e.value === undefined || e.value === null || e.value === '') return;
  checkMetadataValue(ctx, c, { name, field, value: scalar(e.value) }, path);
}

/** A plain metadata value: no credential, and of the field's type. */
function checkMetadataValue(
  ctx: Context,
  c: Resource,
  { name, field, value }: { name: string; field: MetadataField | undefined; value: string },
  path: string,
): void {
  // A field the type marks sensitive that is a secret by name (password, key, token...) must come from a
  // secret store. Sensitive fields that merely may hold one (url, connectionString) pass when the value
  // holds none: the credential patterns catch user:password@, password=, SharedAccessKey=... Fields
  // named like a secret count whatever the type declares (bindings.postgres does not mark its password
  // sensitive); paths to a key or certificate file are not secrets.
  if (field?.sensitive ? SECRET_NAME.test(name) : SENSITIVE_NAME.test(name) && !/(File|Path)$/i.test(name)) {
    ctx.report(
      'plaintext-credential',
      c,
      `metadata "${name}" is a credential given as a plain value: use secretKeyRef`,
      path,
    );
  }
  const bad = field && checkFieldValue(field, value);
  if (bad) ctx.report('component-metadata-value', c, `metadata "${name}": "${value}" ${bad}`, path);
}

/**
 * With Azure workload identity, Dapr's Azure components sign in as the identity the pod was given
 * (AZURE_CLIENT_ID, from its ServiceAccount's annotation), not as a component's azureClientId. A
 * component naming another identity than that of an app it is scoped to would sign in as the wrong one
 * there: a component shared by apps with different identities must not name one at all.
 */
export const workloadIdentities: RuleFn = (ctx) => {
  if (!ctx.k8s) return;
  for (const c of ctx.components) {
    const clientId = asArray(asObject(c.spec).metadata)
      .map(asObject)
      .find((m) => m.name === 'azureClientId');
    if (typeof clientId?.value !== 'string') continue;
    const scopes = asArray(c.scopes).map(String);
    for (const app of ctx.daprApps.filter(
      (a) => (!scopes.length || scopes.includes(a.appId)) && a.namespace === c.metadata?.namespace,
    )) {
      if (app.pod.meta.labels?.['azure.workload.identity/use'] !== 'true') continue;
      const sa = ctx.serviceAccountOf(app);
      const podIdentity = sa?.metadata?.annotations?.['azure.workload.identity/client-id'];
      if (podIdentity !== clientId.value) {
        ctx.report(
          'workload-identity',
          c,
          `azureClientId "${clientId.value}" is not the identity of app "${app.appId}" (ServiceAccount ${str(app.pod.spec.serviceAccountName) ?? 'default'}: ${podIdentity ?? 'none'}); its sidecar signs in as the pod's identity: remove azureClientId, or give the app that identity`,
          '/spec/metadata',
        );
      }
    }
  }
};

export const scopes: RuleFn = (ctx) => {
  for (const r of [...ctx.components, ...ctx.ofDaprKind('Subscription'), ...ctx.ofDaprKind('Resiliency')])
    ctx.checkScopes(r, appIdHint(ctx));
};

/** Access control names apps that exist, in their namespace, with valid actions and verbs; secret scopes name stores. */
export const configurations: RuleFn = (ctx) => {
  const known: KnownApps = { ids: ctx.appIds, apps: new Map(ctx.daprApps.map((a) => [a.appId, a])) };
  for (const conf of ctx.ofDaprKind('Configuration')) {
    const spec = asObject(conf.spec);
    const acl = asObject(spec.accessControl);
    checkAction(ctx, conf, acl.defaultAction, '/spec/accessControl/defaultAction');
    asArray(acl.policies).forEach((p, i) =>
      checkAccessPolicy(ctx, conf, asObject(p), `/spec/accessControl/policies/${i}`, known),
    );
    checkSecretScopes(ctx, conf, asObject(spec.secrets));
  }
};

/** The app ids there are, and the Dapr apps of the documents by id. */
interface KnownApps {
  ids: Set<string>;
  apps: Map<string, DaprApp>;
}

/** An access-control action is allow or deny, or left out. */
function checkAction(ctx: Context, conf: Resource, v: unknown, path: string): void {
  if (v !== undefined && v !== 'allow' && v !== 'deny')
    ctx.report('access-control', conf, `action "${scalar(v)}" must be allow or deny`, path);
}

/** One access-control policy: for an app that exists, in the app's namespace, with valid actions and operations. */
function checkAccessPolicy(ctx: Context, conf: Resource, policy: Json, path: string, known: KnownApps): void {
  const appId = str(policy.appId) ?? '';
  if (!known.ids.has(appId))
    ctx.report(
      'access-control',
      conf,
      `policy for app id "${appId}", which is no Dapr app here (known: ${[...known.ids].join(', ') || 'none'})`,
      path,
    );
  const app = known.apps.get(appId);
  if (ctx.k8s && app && (str(policy.namespace) ?? 'default') !== (app.namespace ?? 'default')) {
    ctx.report(
      'access-control',
      conf,
      `policy for "${appId}" says namespace "${str(policy.namespace) ?? '(default)'}" but the app runs in "${app.namespace}"`,
      path,
    );
  }
  checkAction(ctx, conf, policy.defaultAction, `${path}/defaultAction`);
  asArray(policy.operations).forEach((o, j) => checkOperation(ctx, conf, asObject(o), `${path}/operations/${j}`));
}

/** An operation of a policy: a path, an action and HTTP methods. */
function checkOperation(ctx: Context, conf: Resource, op: Json, path: string): void {
  checkAction(ctx, conf, op.action, `${path}/action`);
  if (typeof op.name === 'string' && !op.name.startsWith('/'))
    ctx.report('access-control', conf, `operation "${op.name}" must start with /`, `${path}/name`);
  for (const verb of asArray(op.httpVerb)) {
    if (!HTTP_VERBS.has(String(verb)))
      ctx.report('access-control', conf, `httpVerb "${String(verb)}" is not an HTTP method`, `${path}/httpVerb`);
  }
}

/** Each secret scope names a secret store that is declared (or Kubernetes', there). */
function checkSecretScopes(ctx: Context, conf: Resource, secrets: Json): void {
  asArray(secrets.scopes).forEach((s, i) => {
    const storeName = str(asObject(s).storeName) ?? '';
    if (!ctx.isSecretStore(storeName)) {
      ctx.report(
        'secret-store',
        conf,
        `secret scope for store "${storeName}", which is not declared`,
        `/spec/secrets/scopes/${i}`,
      );
    }
  });
}

/** A subscription's pub/sub exists and serves its apps; its routes are paths; its dead letters do not loop. */
export const subscriptions: RuleFn = (ctx) => {
  for (const sub of ctx.ofDaprKind('Subscription')) {
    const spec = asObject(sub.spec);
    const pubsub = ctx.components.find((c) => c.metadata?.name === spec.pubsubname && ctx.together(c, sub));
    if (!pubsub || !ctx.componentType(pubsub).startsWith('pubsub.')) {
      ctx.report(
        'subscription',
        sub,
        `pubsubname "${String(spec.pubsubname)}" names no pub/sub component`,
        '/spec/pubsubname',
      );
    } else {
      const componentScopes = asArray(pubsub.scopes);
      for (const s of asArray(sub.scopes)) {
        if (componentScopes.length && !componentScopes.includes(s)) {
          ctx.report(
            'subscription',
            sub,
            `app "${String(s)}" subscribes through "${String(spec.pubsubname)}" but the component is not scoped to it`,
            '/scopes',
          );
        }
      }
    }
    if (spec.deadLetterTopic !== undefined && spec.deadLetterTopic === spec.topic) {
      ctx.report(
        'subscription',
        sub,
        'deadLetterTopic is the subscribed topic itself: refused events would loop',
        '/spec/deadLetterTopic',
      );
    }
    const routes = asObject(spec.routes);
    if (!routes.default && !asArray(routes.rules).length)
      ctx.report('subscription', sub, 'routes has neither a default route nor rules', '/spec/routes');
    for (const p of [routes.default, ...asArray(routes.rules).map((x) => asObject(x).path)]) {
      if (typeof p === 'string' && !p.startsWith('/'))
        ctx.report('subscription', sub, `route "${p}" must start with /`, '/spec/routes');
    }
  }
};

/**
 * daprd retries a subscription's deliveries under the pub/sub's inbound retry policy until the app
 * accepts them; once the policy gives up it moves the events to the dead-letter topic (without one it
 * nacks them, and Redis Streams, for one, then acknowledges them: gone). So every subscribing app's
 * policy must never give up by itself, however long an outage behind the app lasts. When a policy ends
 * is computed from daprd's own code (dapr-facts.ts, retryHorizons): an exponential policy, for one,
 * stops after 15 minutes whatever its maxRetries, a limit the Resiliency API cannot change.
 */
export const deliveryRetriesNeverStop: RuleFn = (ctx) => {
  for (const sub of ctx.ofDaprKind('Subscription')) {
    const pubsubName = str(asObject(sub.spec).pubsubname);
    if (!pubsubName || !ctx.components.some((c) => c.metadata.name === pubsubName && ctx.together(c, sub))) continue;
    const scopes = asArray(sub.scopes).filter((s): s is string => typeof s === 'string');
    for (const app of scopes.length ? scopes : [...ctx.appIds]) {
      const resiliencies = ctx
        .ofDaprKind('Resiliency')
        .filter((r) => ctx.together(r, sub) && (!asArray(r.scopes).length || asArray(r.scopes).includes(app)));
      const horizons = ctx.options.facts.retryHorizons({
        resiliencies,
        components: [{ name: pubsubName, category: 'Pubsub' }],
      });
      const horizon = horizons[pubsubName];
      if (!horizon) throw new Error(`daprd's retry horizons name no component ${pubsubName}`);
      const ending = howRetriesEnd(horizon.inbound);
      if (ending)
        ctx.report(
          'delivery',
          sub,
          `daprd's delivery retries of pub/sub "${pubsubName}" to app "${app}" ${ending}: an outage behind the app that lasts longer ${asObject(sub.spec).deadLetterTopic ? 'dead-letters good events' : 'loses good events'}; give the component an inbound retry policy that never stops (policy: constant, maxRetries: -1)`,
        );
    }
  }
};

/**
 * On Service Bus daprd bounds a bulk delivery, retries included, by the component's handlerTimeoutInSec
 * (60 s when unset) and then dead-letters the batch. Events still waiting to be received last as long as
 * the subscription's message time to live (`npm run asb -- provision`): a bulk delivery must last at
 * least as long, or an outage dead-letters the batch in flight well before the ones behind it.
 */
export const serviceBusBulkOutlastsTtl: RuleFn = (ctx) => {
  const ttl = isoDurationSeconds(DEFAULT_PLAN_OPTIONS.messageTimeToLive);
  for (const sub of ctx.ofDaprKind('Subscription')) {
    const spec = asObject(sub.spec);
    if (asObject(spec.bulkSubscribe).enabled !== true) continue;
    const pubsub = ctx.components.find((c) => c.metadata?.name === spec.pubsubname && ctx.together(c, sub));
    if (!pubsub || !ctx.componentType(pubsub).startsWith('pubsub.azure.servicebus')) continue;
    const value = asArray(asObject(pubsub.spec).metadata)
      .map(asObject)
      .find((m) => m.name === 'handlerTimeoutInSec')?.value;
    const seconds = value === undefined ? 60 : Number(value);
    if (!(seconds >= ttl))
      ctx.report(
        'delivery',
        pubsub,
        `handlerTimeoutInSec ${value === undefined ? '(unset: 60)' : scalar(value)} ends subscription ${sub.metadata.name}'s bulk deliveries, retries included, in the dead-letter topic: at least the subscription's message time to live (${DEFAULT_PLAN_OPTIONS.messageTimeToLive}, ${ttl} s) keeps a batch in delivery as long as the events behind it may wait`,
        '/spec/metadata',
      );
  }
};

/** Why retries under this horizon end by themselves, or undefined when they do not. */
function howRetriesEnd(h: RetryHorizon): string | undefined {
  if (!h.retries) return 'do not happen (no inbound retry policy targets it): the first failure is final';
  if (h.maxRetries !== undefined) return `stop after ${h.maxRetries} retries (${h.stopsAfter ?? '?'})`;
  if (h.stopsAfter) return `stop after ${h.stopsAfter}`;
  return undefined;
}

/** Resiliency policies that targets name exist; targets are declared components and apps. */
export const resiliency: RuleFn = (ctx) => {
  for (const res of ctx.ofDaprKind('Resiliency')) {
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
        if (typeof ref !== 'string' || (!names[kind].has(ref) && !(kind === 'timeout' && DURATION.test(ref))))
          ctx.report('resiliency', res, `${kind} "${scalar(ref)}" names no ${kind} policy`, `${path}/${kind}`);
      }
    };
    const targets = asObject(spec.targets);
    for (const [name, t] of Object.entries(asObject(targets.components))) {
      if (!ctx.components.some((c) => c.metadata?.name === name && ctx.together(c, res)))
        ctx.report('resiliency', res, `target component "${name}" is not declared`, `/spec/targets/components/${name}`);
      checkRefs(asObject(asObject(t).outbound), `/spec/targets/components/${name}/outbound`);
      checkRefs(asObject(asObject(t).inbound), `/spec/targets/components/${name}/inbound`);
    }
    for (const [name, t] of Object.entries(asObject(targets.apps))) {
      if (!ctx.appIds.has(name))
        ctx.report('resiliency', res, `target app "${name}" is no Dapr app here`, `/spec/targets/apps/${name}`);
      checkRefs(asObject(t), `/spec/targets/apps/${name}`);
    }
    for (const [name, t] of Object.entries(asObject(targets.actors)))
      checkRefs(asObject(t), `/spec/targets/actors/${name}`);
  }
};

/** Services, PodDisruptionBudgets and HorizontalPodAutoscalers select workloads that exist. */
export const selectors: RuleFn = (ctx) => {
  const podsIn = (r: Resource) => ctx.podTemplates.filter((p) => ctx.together(p.owner, r));
  for (const svc of ctx.ofKind('Service')) {
    const spec = asObject(svc.spec);
    const selector = spec.selector as Record<string, string> | undefined;
    if (!selector || spec.type === 'ExternalName') continue;
    const matching = podsIn(svc).filter((p) => labelsMatch(selector, p.meta.labels) && p.owner.kind !== 'Job');
    if (!matching.length) {
      ctx.report('selector', svc, `selector ${JSON.stringify(selector)} matches no pod template`, '/spec/selector');
      continue;
    }
    asArray(spec.ports).forEach((p, i) => {
      const target = asObject(p).targetPort;
      if (typeof target !== 'string') return;
      const found = matching.some((m) =>
        containersOf(m.spec).some(({ c }) => asArray(c.ports).some((cp) => asObject(cp).name === target)),
      );
      if (!found)
        ctx.report(
          'selector',
          svc,
          `targetPort "${target}" is no named port of the selected pods`,
          `/spec/ports/${i}/targetPort`,
        );
    });
  }
  for (const pdb of ctx.ofKind('PodDisruptionBudget')) {
    const selector = asObject(asObject(pdb.spec).selector).matchLabels as Record<string, string> | undefined;
    if (!podsIn(pdb).some((p) => labelsMatch(selector, p.meta.labels)))
      ctx.report('selector', pdb, 'selector.matchLabels matches no pod template', '/spec/selector');
  }
  for (const hpa of ctx.ofKind('HorizontalPodAutoscaler')) {
    const ref = asObject(asObject(hpa.spec).scaleTargetRef);
    if (!ctx.named(String(ref.kind), str(ref.name), hpa.metadata?.namespace))
      ctx.report(
        'selector',
        hpa,
        `scaleTargetRef ${String(ref.kind)}/${String(ref.name)} is not declared`,
        '/spec/scaleTargetRef',
      );
  }
};

/** Credentials in plain text anywhere: ConfigMap keys named like one, and values that look like one. */
export const plaintextCredentials: RuleFn = (ctx) => {
  for (const cm of ctx.ofKind('ConfigMap')) {
    for (const [key, value] of Object.entries(asObject(cm.data))) {
      if (typeof value === 'string' && value !== '' && SENSITIVE_NAME.test(key))
        ctx.report(
          'plaintext-credential',
          cm,
          `key ${key} looks like a credential: keep it in a Secret, not a ConfigMap`,
          `/data/${key}`,
        );
    }
  }
  for (const r of ctx.docs.filter((d) => d.kind !== 'Secret')) {
    for (const [path, value] of strings(r, '')) {
      const found = CREDENTIAL_PATTERNS.find(([pattern]) => pattern.test(value));
      if (found) ctx.report('plaintext-credential', r, `${found[1]} in plain text`, path);
    }
  }
};

/** Runs last: a declared Secret nothing referred to. */
export const unusedSecrets: RuleFn = (ctx) => {
  if (!(ctx.options.reportUnusedSecrets ?? ctx.k8s)) return;
  for (const s of ctx.options.declaredSecrets ?? []) {
    if (!ctx.usedSecrets.has(s.name))
      ctx.problems.push({
        rule: 'secret-ref',
        resource: `Secret/${s.name}`,
        message: 'declared (prerequisites.yaml) but referenced by nothing: remove it from the list',
      });
  }
};

export const RULES: RuleFn[] = [
  documentShape,
  namespaces,
  noCommittedSecrets,
  podReferences,
  pinnedImages,
  serviceAccounts,
  daprAnnotations,
  appPorts,
  sidecarReferences,
  componentMetadata,
  workloadIdentities,
  scopes,
  configurations,
  subscriptions,
  deliveryRetriesNeverStop,
  serviceBusBulkOutlastsTtl,
  resiliency,
  selectors,
  databaseConnections,
  plaintextCredentials,
  unusedSecrets,
];
