/**
 * Validation of everything deployable, in `npm test`: each kustomization under k8s/ (rendered with the
 * project's kubectl) and the local run's Dapr resources (dapr.yaml with each broker and SQL engine),
 * checked document by document by a real Kubernetes API server on loopback (strict field validation,
 * the Dapr CRDs of the pinned dapr module) and as a whole by the project's rules. Then broken copies
 * prove each kind of mistake is reported, by the server or by a rule.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ControlPlane } from '../../tools/kube/control-plane';
import { localSecrets } from '../../tools/stack';
import {
  findKustomizations,
  formatProblem,
  Problem,
  Resource,
  SourcedResource,
  validateDocuments,
  validateKustomization,
  validateLocalRun,
  validatePath,
  ValidateOptions,
} from '../../tools/validate';
import { main as validateCli } from '../../tools/validate/cli';
import { daprFacts } from '../../tools/validate/dapr-facts';
import { loadPrerequisites, renderKustomization } from '../../tools/validate/load';
import { validateOnServer } from '../../tools/validate/server';
import type { Container, EnvVar } from '../support/kube';
import { Component, Configuration, Deployment, Kinds, ofKind, resourceOf, untyped } from '../support/manifests';
import { must } from '../support/must';

const repoRoot = resolve(__dirname, '../..');
const k8sDir = join(repoRoot, 'k8s');
const runFile = join(repoRoot, 'dapr.yaml');

const show = (problems: Problem[]) => problems.map(formatProblem).join('\n');
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

let server: ControlPlane;
beforeAll(async () => {
  server = await ControlPlane.start();
});
afterAll(() => server?.stop());

describe('k8s/ kustomizations', () => {
  const kustomizations = findKustomizations(k8sDir);

  it('covers the base and every overlay', () => {
    expect(kustomizations.map((k) => k.slice(k8sDir.length + 1)).sort()).toEqual([
      'base',
      'overlays/azure-sql',
      'overlays/connection-strings',
      'overlays/ingress',
      'overlays/local',
    ]);
  });

  it.each(kustomizations.map((k) => [k.slice(repoRoot.length + 1), k]))(
    '%s: the API server accepts every object and the rules find nothing',
    async (_label, dir) => {
      const { docs, problems } = await validateKustomization(dir, { server, root: repoRoot });
      expect(docs.length).toBeGreaterThan(15);
      expect(show(problems)).toBe('');
    },
  );
});

describe('the local run (dapr.yaml with each broker and SQL engine)', () => {
  it('covers the default set and each variant, and every one is valid', async () => {
    const sets = await validateLocalRun(runFile, { server, root: repoRoot });
    expect(sets.map((s) => s.label)).toEqual([
      'dapr.yaml (redis × postgres)',
      'dapr.yaml (rabbitmq × postgres)',
      'dapr.yaml (mqtt × postgres)',
      'dapr.yaml (jetstream × postgres)',
      'dapr.yaml (redis × mariadb)',
    ]);
    const defaultSet = must(sets[0], 'the default set');
    expect(defaultSet.docs.map((d) => `${d.resource.kind}/${d.resource.metadata?.name}`).sort()).toEqual(
      [
        'Component/audit-db',
        'Component/local-secrets',
        'Component/pubsub',
        'Configuration/appconfig',
        'Resiliency/resiliency',
        'Subscription/audit-products',
        'Subscription/audit-products-deadletter',
      ].sort(),
    );
    for (const set of sets) expect(`${set.label}\n${show(set.problems)}`).toBe(`${set.label}\n`);
  });
});

/** The rendered resources of a kustomization, by kind and name. */
function rendered(dir: string) {
  const docs = renderKustomization(join(k8sDir, dir), dir).map((d) => d.resource);
  const get = <K extends keyof Kinds>(kind: K, name: string) => resourceOf(docs, kind, name);
  const has = (kind: string, name: string) => docs.some((d) => d.kind === kind && d.metadata?.name === name);
  const metadata = (name: string) =>
    Object.fromEntries(get('Component', name).spec.metadata.map((m) => [m.name, m.value ?? m.secretKeyRef]));
  /** A generated ConfigMap, by its name before the hash. */
  const configMap = (prefix: string) => get('ConfigMap', prefix);
  return { docs, get, has, metadata, configMap };
}

describe('what the manifests say (consistency with the issues and the guide)', () => {
  it('base: both apps with their sidecars, probes, non-root read-only containers and pinned images', () => {
    const r = rendered('base');
    for (const [app, port] of [
      ['catalog', '5001'],
      ['audit', '5002'],
    ] as const) {
      const d = r.get('Deployment', app);
      const pod = d.spec.template;
      const a = pod.metadata.annotations;
      expect(a).toMatchObject({
        'dapr.io/enabled': 'true',
        'dapr.io/app-id': app,
        'dapr.io/app-port': port,
        'dapr.io/config': `${app}-config`,
        'dapr.io/enable-app-health-check': 'true',
        'dapr.io/app-health-check-path': '/healthz',
        'dapr.io/app-token-secret': `${app}-app-api-token`,
        'dapr.io/api-token-secret': `${app}-dapr-api-token`,
        'dapr.io/log-as-json': 'true',
      });
      for (const k of [
        'sidecar-cpu-request',
        'sidecar-cpu-limit',
        'sidecar-memory-request',
        'sidecar-memory-limit',
        'graceful-shutdown-seconds',
        'block-shutdown-duration',
      ]) {
        expect(a[`dapr.io/${k}`]).toBeDefined();
      }
      const c = must(pod.spec.containers[0], `the container of ${app}`);
      expect(c.image).toBe(`myregistry.azurecr.io/${app}:1.0.0`);
      expect(c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
      expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(c.resources?.requests).toBeDefined();
      expect(c.resources?.limits).toBeDefined();
      // The app token the sidecar sends and the API token the app sends come from the same Secrets.
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
      expect(env.APP_API_TOKEN).toEqual({ name: `${app}-app-api-token`, key: 'token' });
      expect(env.DAPR_API_TOKEN).toEqual({ name: `${app}-dapr-api-token`, key: 'token' });
      expect(pod.spec.serviceAccountName).toBe(app);
      expect(pod.metadata.labels['azure.workload.identity/use']).toBe('true');
      expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
      expect(r.configMap(`${app}-env`).data.MIGRATE_ON_START).toBe('false');
      expect(r.get('Service', app).spec.type).toBe('ClusterIP');
      expect(r.get('PodDisruptionBudget', app).spec.minAvailable).toBe(1);
      expect(r.get('HorizontalPodAutoscaler', app).spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: app,
      });
      // Migrations in an init container of the same image and settings: no Job whose immutable pod
      // template would make the next `kubectl apply -k` fail after a settings or image change.
      const migrate = must(pod.spec.initContainers?.[0], `the init container of ${app}`);
      expect(pod.spec.initContainers).toHaveLength(1);
      expect(migrate).toMatchObject({
        name: 'migrate',
        image: c.image,
        command: ['node', 'dist/migrate.js'],
        envFrom: c.envFrom,
      });
      // It signs in as the role that owns the schema; the app's role may only read and write rows.
      const migrateEnv = Object.fromEntries((migrate.env ?? []).map((e) => [e.name, e.valueFrom]));
      expect(migrateEnv.DB_USER?.configMapKeyRef?.key).toBe('MIGRATION_DB_USER');
      expect(r.configMap(`${app}-env`).data).toMatchObject({
        DB_USER: `${app}_app`,
        MIGRATION_DB_USER: `${app}_owner`,
      });
      expect(migrateEnv.DB_PASSWORD).toEqual({
        secretKeyRef: { name: `${app}-db-owner-credentials`, key: 'password' },
      });
      expect(Object.keys(migrateEnv)).toEqual(['DB_USER', 'DB_SERVER', 'DB_PASSWORD']);
      // Least privilege: no Kubernetes API token in any container; spread over nodes.
      expect(pod.spec.automountServiceAccountToken).toBe(false);
      expect(a['dapr.io/disable-builtin-k8s-secret-store']).toBe('true');
      expect(pod.spec.topologySpreadConstraints?.[0]).toMatchObject({
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'DoNotSchedule',
      });
      expect(d.spec.progressDeadlineSeconds).toBeLessThanOrEqual(300);
      expect(r.docs.filter((x) => x.kind === 'Job')).toEqual([]);
    }
    // One identity per app: each ServiceAccount names its own.
    const identity = (app: string) =>
      r.get('ServiceAccount', app).metadata.annotations?.['azure.workload.identity/client-id'];
    expect(identity('catalog')).toMatch(/^[0-9a-f-]{36}$/);
    expect(identity('audit')).toMatch(/^[0-9a-f-]{36}$/);
    expect(identity('catalog')).not.toBe(identity('audit'));
  });

  it('base: Service Bus pub/sub with workload identity and no entity management; PostgreSQL binding with Entra ID', () => {
    const r = rendered('base');
    expect(r.get('Component', 'pubsub').spec.type).toBe('pubsub.azure.servicebus.topics');
    expect(r.metadata('pubsub')).toMatchObject({
      namespaceName: 'sb-portable-dapr.servicebus.windows.net',
      disableEntityManagement: 'true',
      azureAuthMethods: 'WorkloadIdentity',
    });
    // Each sidecar signs in as its pod's identity: no component names one of its own.
    expect(r.metadata('pubsub').azureClientId).toBeUndefined();
    expect(r.metadata('audit-db').azureClientId).toBeUndefined();
    expect(r.metadata('pubsub').connectionString).toBeUndefined();
    // A bulk delivery lasts as long as the events behind it may wait (the subscription's 14-day time to live).
    expect(r.metadata('pubsub').handlerTimeoutInSec).toBe('1209600');
    expect(r.get('Resiliency', 'resiliency').spec.policies.retries.deliver).toMatchObject({
      policy: 'constant',
      maxRetries: -1,
    });
    expect(r.get('Component', 'pubsub').scopes).toEqual(['catalog', 'audit']);
    expect(r.get('Component', 'audit-db').spec.type).toBe('bindings.postgresql');
    expect(r.metadata('audit-db')).toMatchObject({
      useAzureAD: 'true',
      connectionString: { name: 'audit-db-binding', key: 'connectionString' },
    });
    expect(r.get('Component', 'audit-db').scopes).toEqual(['audit']);
    // No secret store component: the operator resolves the components' secrets, nothing reads secrets at run time.
    expect(
      ofKind(r.docs, 'Component')
        .map((d) => d.spec.type)
        .sort(),
    ).toEqual(['bindings.postgresql', 'pubsub.azure.servicebus.topics']);
    // Each sidecar serves its app what it uses, over HTTP and gRPC alike (metadata: the SDK's start-up check).
    const allowed = (app: string) => [
      ...new Set(
        (r.get('Configuration', `${app}-config`).spec.api?.allowed ?? []).map((a) => `${a.protocol}:${a.name}`).sort(),
      ),
    ];
    expect(allowed('catalog')).toEqual([
      'grpc:invoke',
      'grpc:metadata',
      'grpc:publish',
      'http:invoke',
      'http:metadata',
      'http:publish',
    ]);
    expect(allowed('audit')).toEqual([
      'grpc:bindings',
      'grpc:invoke',
      'grpc:metadata',
      'http:bindings',
      'http:invoke',
      'http:metadata',
    ]);
    const subs = ofKind(r.docs, 'Subscription');
    expect(subs.map((s) => [s.apiVersion, s.spec.topic, s.spec.routes.default, s.spec.deadLetterTopic])).toEqual([
      ['dapr.io/v2alpha1', 'products', '/events/products', 'products-deadletter'],
      ['dapr.io/v2alpha1', 'products-deadletter', '/events/products-deadletter', undefined],
    ]);
    for (const app of ['catalog', 'audit']) {
      const conf = r.get('Configuration', `${app}-config`).spec;
      // mTLS is the control plane's (daprsystem); daprd on Kubernetes ignores an app Configuration's.
      expect(conf.mtls).toBeUndefined();
      expect(conf.tracing?.samplingRate).toBeDefined();
      expect(conf.accessControl?.defaultAction).toBe('deny');
    }
    expect(r.get('Configuration', 'catalog-config').spec.accessControl?.policies).toEqual([]);
    expect(r.get('Configuration', 'audit-config').spec.accessControl?.policies.map((p) => p.appId)).toEqual([
      'catalog',
    ]);
  });

  it('connection-strings: no workload identity at all; both components on connection strings from Secrets', () => {
    const r = rendered('overlays/connection-strings');
    const pubsub = r.metadata('pubsub');
    expect(pubsub.connectionString).toEqual({ name: 'servicebus-connection', key: 'connectionString' });
    expect(pubsub.namespaceName).toBeUndefined();
    expect(pubsub.azureAuthMethods).toBeUndefined();
    expect(pubsub.handlerTimeoutInSec).toBe(rendered('base').metadata('pubsub').handlerTimeoutInSec);
    const binding = r.metadata('audit-db');
    expect(binding.connectionString).toEqual({ name: 'audit-db-binding', key: 'connectionString' });
    expect(binding.useAzureAD).toBeUndefined();
    for (const app of ['catalog', 'audit']) {
      expect(r.get('Deployment', app).spec.template.metadata.labels['azure.workload.identity/use']).toBeUndefined();
      expect(r.get('ServiceAccount', app).metadata.annotations?.['azure.workload.identity/client-id']).toBeUndefined();
    }
  });

  it('local: Redis Streams and PostgreSQL in the cluster, local images, no workload identity, no autoscalers', () => {
    const r = rendered('overlays/local');
    const pubsub = r.get('Component', 'pubsub');
    expect(pubsub.spec.type).toBe('pubsub.redis');
    expect(r.metadata('pubsub').redisHost).toBe('redis:6379');
    expect(r.metadata('pubsub').redisPassword).toEqual({ name: 'redis-password', key: 'password' });
    expect(r.get('Component', 'audit-db').spec.type).toBe('bindings.postgresql');
    expect(r.metadata('audit-db').connectionString).toEqual({ name: 'audit-db-binding', key: 'connectionString' });
    expect(r.metadata('audit-db').useAzureAD).toBeUndefined();
    for (const app of ['catalog', 'audit']) {
      const d = r.get('Deployment', app);
      expect(d.spec.replicas).toBe(2);
      expect(d.spec.template.metadata.labels['azure.workload.identity/use']).toBeUndefined();
      expect(r.get('ServiceAccount', app).metadata.annotations).toBeUndefined();
      const images = [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map(
        (c) => c.image,
      );
      expect(new Set(images)).toEqual(new Set([`localhost/${app}:local`]));
    }
    expect(r.has('HorizontalPodAutoscaler', 'catalog') || r.has('HorizontalPodAutoscaler', 'audit')).toBe(false);
    for (const server of ['postgres', 'redis']) {
      expect(r.get('Deployment', server).metadata.namespace).toBe('portable-dapr');
      expect(r.get('Service', server).spec.selector).toEqual({ 'app.kubernetes.io/name': server });
    }
  });

  it('azure-sql: both apps on SQL Server through tedious, audit through Sequelize, no binding', () => {
    const r = rendered('overlays/azure-sql');
    expect(r.has('Component', 'audit-db')).toBe(false);
    expect(r.configMap('catalog-env').data).toMatchObject({ DB_DIALECT: 'mssql', DB_PORT: '1433' });
    expect(r.configMap('audit-env').data).toMatchObject({
      DB_DIALECT: 'mssql',
      DB_PORT: '1433',
      AUDIT_SINK: 'sequelize',
    });
    expect(r.configMap('azure-settings').data.DB_SERVER).toMatch(/\.database\.windows\.net$/);
    expect(Object.keys(r.get('Resiliency', 'resiliency').spec.targets.components)).toEqual(['pubsub']);
    expect(r.metadata('pubsub').namespaceName).toBeDefined();
  });

  it("ingress: its own sidecar, which may only invoke, and the apps' permissions for it; the apps' sidecars stay on localhost", () => {
    const r = rendered('overlays/ingress');
    const ingress = r.get('Deployment', 'ingress').spec.template;
    expect(ingress.metadata.annotations).toMatchObject({
      'dapr.io/enabled': 'true',
      'dapr.io/app-id': 'ingress',
      'dapr.io/config': 'ingress-config',
    });
    expect(ingress.metadata.annotations['dapr.io/app-port']).toBeUndefined();
    expect(r.get('Configuration', 'ingress-config').spec.api?.allowed).toEqual([
      { name: 'invoke', version: 'v1.0', protocol: 'http' },
      { name: 'invoke', version: 'v1', protocol: 'grpc' },
    ]);
    expect(r.get('Service', 'ingress').spec.type).toBe('LoadBalancer');
    for (const app of ['catalog', 'audit']) {
      expect(r.get('Deployment', app).spec.template.metadata.annotations['dapr.io/sidecar-listen-addresses']).toBe(
        undefined,
      );
      const policies = r.get('Configuration', `${app}-config`).spec.accessControl?.policies ?? [];
      expect(policies.map((p) => p.appId)).toContain('ingress');
    }
    expect(r.docs.filter((d) => d.kind === 'Ingress')).toEqual([]);
    // Without the component, no policy names the ingress.
    const base = rendered('base');
    expect(
      ['catalog', 'audit'].flatMap((app) =>
        (base.get('Configuration', `${app}-config`).spec.accessControl?.policies ?? []).map((p) => p.appId),
      ),
    ).toEqual(['catalog']);
  });

  it('prerequisites: overlays add and remove secrets of their base', () => {
    const names = (dir: string) => loadPrerequisites(join(k8sDir, dir)).secrets.map((s) => s.name);
    expect(names('base')).toEqual([
      'catalog-dapr-api-token',
      'catalog-app-api-token',
      'audit-dapr-api-token',
      'audit-app-api-token',
      'catalog-db-credentials',
      'catalog-db-owner-credentials',
      'audit-db-credentials',
      'audit-db-owner-credentials',
      'audit-db-binding',
    ]);
    expect(names('overlays/connection-strings')).toEqual([...names('base'), 'servicebus-connection']);
    expect(names('overlays/azure-sql')).toEqual(names('base').filter((n) => n !== 'audit-db-binding'));
    expect(names('overlays/ingress')).toEqual([...names('base'), 'portable-dapr-tls']);
  });
});

// ---- broken copies: each kind of mistake is reported -----------------------------------------------

describe('broken copies of the rendered manifests fail', () => {
  let base: SourcedResource[] = [];
  let baseOptions: ValidateOptions;
  let ingress: SourcedResource[] = [];
  let ingressOptions: ValidateOptions;

  beforeAll(() => {
    base = renderKustomization(join(k8sDir, 'base'), 'k8s/base');
    baseOptions = {
      facts: daprFacts(),
      mode: 'kubernetes',
      declaredSecrets: loadPrerequisites(join(k8sDir, 'base')).secrets,
    };
    ingress = renderKustomization(join(k8sDir, 'overlays/ingress'), 'k8s/overlays/ingress');
    ingressOptions = {
      facts: daprFacts(),
      mode: 'kubernetes',
      declaredSecrets: loadPrerequisites(join(k8sDir, 'overlays/ingress')).secrets,
    };
  });

  type Mutation = (get: <K extends keyof Kinds>(kind: K, name: string) => Kinds[K], docs: Resource[]) => void;
  /** A copy of the base (or ingress overlay) after `mutate`. */
  function broken(mutate: Mutation, from: 'base' | 'ingress' = 'base'): Resource[] {
    const docs = clone((from === 'base' ? base : ingress).map((d) => d.resource));
    mutate((kind, name) => resourceOf(docs, kind, name), docs);
    return docs;
  }
  const breakAndValidate = (mutate: Mutation, from: 'base' | 'ingress' = 'base', options?: Partial<ValidateOptions>) =>
    validateDocuments(broken(mutate, from), { ...(from === 'base' ? baseOptions : ingressOptions), ...options });
  const podOf = (d: Deployment) => d.spec.template;
  const containerOf = (d: Deployment) =>
    must(d.spec.template.spec.containers[0], `the container of ${d.metadata.name}`);
  const initContainerOf = (d: Deployment) =>
    must(d.spec.template.spec.initContainers?.[0], `the init container of ${d.metadata.name}`);
  const envOf = (c: Container, name: string) =>
    must(
      c.env?.find((e) => e.name === name),
      `env ${name} of ${c.name}`,
    );
  const secretRefOf = (e: EnvVar) => must(e.valueFrom?.secretKeyRef, `the secretKeyRef of ${e.name}`);
  const metadataEntry = (c: Component, name: string) =>
    must(
      c.spec.metadata.find((m) => m.name === name),
      `metadata ${name} of ${c.metadata.name}`,
    );
  const accessControlOf = (c: Configuration) => must(c.spec.accessControl, `the access control of ${c.metadata.name}`);
  const firstPolicyOf = (c: Configuration) => must(accessControlOf(c).policies[0], `a policy of ${c.metadata.name}`);

  it('the unbroken copies are clean (so each problem below comes from its mutation)', async () => {
    expect(show(breakAndValidate(() => undefined))).toBe('');
    expect(show(breakAndValidate(() => undefined, 'ingress'))).toBe('');
    expect(show(await validateOnServer(server, base))).toBe('');
  });

  // What the API server refuses, with its reason: one object is broken in each case.
  const serverCases: [string, Mutation, string, RegExp][] = [
    [
      'replicas: "two"',
      (get) => (untyped(get('Deployment', 'catalog').spec).replicas = 'two'),
      'Deployment/catalog',
      /cannot unmarshal string into Go struct field .*replicas of type int32/,
    ],
    [
      'a misspelled Deployment field',
      (get) => (untyped(containerOf(get('Deployment', 'audit'))).readinesProbe = {}),
      'Deployment/audit',
      /strict decoding error: unknown field "spec\.template\.spec\.containers\[0\]\.readinesProbe"/,
    ],
    [
      'a misspelled Subscription field (Dapr CRD)',
      (get) => (untyped(get('Subscription', 'audit-products').spec).deadLetter = 'x'),
      'Subscription/audit-products',
      /unknown field "spec\.deadLetter"/,
    ],
    [
      'a Subscription batch size that is not a number (Dapr CRD)',
      (get) =>
        (untyped(must(get('Subscription', 'audit-products').spec.bulkSubscribe, 'bulkSubscribe')).maxMessagesCount =
          'many'),
      'Subscription/audit-products',
      /maxMessagesCount in body must be of type integer/,
    ],
    [
      'an unknown field in a Component metadata entry (Dapr CRD)',
      (get) => (untyped(metadataEntry(get('Component', 'pubsub'), 'lockRenewalInSec')).values = '1'),
      'Component/pubsub',
      /unknown field "spec\.metadata\[\d+\]\.values"/,
    ],
    [
      'a bad field in the Deployment metadata',
      (get) => (untyped(get('Deployment', 'catalog').metadata).label = { a: 'b' }),
      'Deployment/catalog',
      /unknown field "metadata\.label"/,
    ],
    [
      'a Dapr kind that does not exist',
      (get) => (untyped(get('Subscription', 'audit-products')).kind = 'Subscriptions'),
      'Subscriptions/audit-products',
      /no matches for kind "Subscriptions" in version "dapr\.io\/v2alpha1"/,
    ],
    [
      'a Dapr version that does not exist',
      (get) => (get('Component', 'pubsub').apiVersion = 'dapr.io/v2'),
      'Component/pubsub',
      /no matches for kind "Component" in version "dapr\.io\/v2"/,
    ],
    [
      'a port out of range',
      (get) => (must(containerOf(get('Deployment', 'catalog')).ports?.[0], 'a port').containerPort = 70000),
      'Deployment/catalog',
      /containerPort: Invalid value: 70000/,
    ],
    [
      'a selector that does not match the template',
      (get) => (get('Deployment', 'audit').spec.selector.matchLabels = { app: 'x' }),
      'Deployment/audit',
      /`selector` does not match template `labels`/,
    ],
  ];

  it.each(serverCases.map((c) => [c[0], c] as const))(
    '%s: the API server refuses it',
    async (_name, [, mutate, resource, message]) => {
      const problems = await validateOnServer(
        server,
        broken(mutate).map((resource) => ({ resource })),
      );
      const match = problems.find((p) => p.rule === 'schema' && p.resource === resource && message.test(p.message));
      if (!match)
        throw new Error(
          `expected the server to refuse ${resource} with ${message}; got:\n${show(problems) || '(no problem)'}`,
        );
    },
  );

  const cases: [string, Mutation, Problem['rule'], string, RegExp, ('base' | 'ingress')?][] = [
    // Component metadata
    [
      'a misspelled component metadata name',
      (get) => (metadataEntry(get('Component', 'pubsub'), 'disableEntityManagement').name = 'disableEntityManagment'),
      'component-metadata',
      'Component/pubsub',
      /unknown metadata "disableEntityManagment" .*did you mean "disableEntityManagement"/,
    ],
    [
      'metadata of another component type',
      (get) => get('Component', 'audit-db').spec.metadata.push({ name: 'redisHost', value: 'x' }),
      'component-metadata',
      'Component/audit-db',
      /unknown metadata "redisHost" for bindings\.postgresql/,
    ],
    [
      'a missing required metadata (Service Bus without namespaceName nor connectionString)',
      (get) =>
        (get('Component', 'pubsub').spec.metadata = get('Component', 'pubsub').spec.metadata.filter(
          (m) => m.name !== 'namespaceName',
        )),
      'component-metadata-required',
      'Component/pubsub',
      /no authentication profile .* complete: closest is "Microsoft Entra ID", which also requires "namespaceName"/,
    ],
    [
      'a missing required metadata within the profile used (Entra ID binding without connectionString)',
      (get) =>
        (get('Component', 'audit-db').spec.metadata = get('Component', 'audit-db').spec.metadata.filter(
          (m) => m.name !== 'connectionString',
        )),
      'component-metadata-required',
      'Component/audit-db',
      /closest is "Microsoft Entra ID", which also requires "connectionString"/,
    ],
    [
      'a metadata value of the wrong type',
      (get) => (metadataEntry(get('Component', 'pubsub'), 'disableEntityManagement').value = 'yes'),
      'component-metadata-value',
      'Component/pubsub',
      /"yes" must be true or false/,
    ],
    [
      'a component version that does not exist',
      (get) => (get('Component', 'pubsub').spec.version = 'v2'),
      'component-type',
      'Component/pubsub',
      /has no version v2 \(known: v1\)/,
    ],
    [
      'an unknown component type',
      (get) => (get('Component', 'pubsub').spec.type = 'pubsub.azure.servicebus.topic'),
      'component-type',
      'Component/pubsub',
      /unknown component type pubsub\.azure\.servicebus\.topic/,
    ],
    // Dapr annotations
    [
      'an unknown Dapr annotation',
      (get) => (podOf(get('Deployment', 'catalog')).metadata.annotations['dapr.io/app-health-check-pth'] = '/healthz'),
      'dapr-annotation',
      'Deployment/catalog',
      /unknown Dapr annotation dapr\.io\/app-health-check-pth \(did you mean dapr\.io\/app-health-check-path\?\)/,
    ],
    [
      'a Dapr annotation with a bad value',
      (get) => (podOf(get('Deployment', 'catalog')).metadata.annotations['dapr.io/enabled'] = 'yes'),
      'dapr-annotation',
      'Deployment/catalog',
      /dapr\.io\/enabled: "yes" must be "true" or "false"/,
    ],
    [
      'a Dapr annotation on the Deployment instead of its pod',
      (get) => (get('Deployment', 'audit').metadata.annotations = { 'dapr.io/enabled': 'true' }),
      'dapr-annotation',
      'Deployment/audit',
      /on the Deployment itself has no effect/,
    ],
    [
      'a wrong app-port',
      (get) => (podOf(get('Deployment', 'catalog')).metadata.annotations['dapr.io/app-port'] = '5003'),
      'app-port',
      'Deployment/catalog',
      /app-port "5003" is not a containerPort of the pod \(5001\)/,
    ],
    [
      'an app-port that is not the PORT the app listens on',
      (get) => (envOf(containerOf(get('Deployment', 'audit')), 'PORT').value = '8080'),
      'app-port',
      'Deployment/audit',
      /differs from the container's PORT "8080"/,
    ],
    [
      'dapr.io/config naming no Configuration',
      (get) => (podOf(get('Deployment', 'catalog')).metadata.annotations['dapr.io/config'] = 'catalog-cfg'),
      'dapr-config',
      'Deployment/catalog',
      /names Configuration "catalog-cfg", which is not declared/,
    ],
    [
      'a Dapr app without an app id',
      (get) => delete podOf(get('Deployment', 'audit')).metadata.annotations['dapr.io/app-id'],
      'app-id',
      'Deployment/audit',
      /dapr\.io\/app-id is missing/,
    ],
    [
      'two Deployments with one app id',
      (get) => (podOf(get('Deployment', 'audit')).metadata.annotations['dapr.io/app-id'] = 'catalog'),
      'app-id',
      'Deployment/catalog',
      /app id "catalog" is also used by Deployment\/audit/,
    ],
    // Scopes and access control
    [
      'a component scope naming no app',
      (get) => (get('Component', 'pubsub').scopes = ['catalog', 'auditt']),
      'scopes',
      'Component/pubsub',
      /scope "auditt" names no Dapr app .*did you mean audit\?/,
    ],
    [
      'a subscription scope naming no app',
      (get) => (get('Subscription', 'audit-products').scopes = ['audit-service']),
      'scopes',
      'Subscription/audit-products',
      /scope "audit-service" names no Dapr app/,
    ],
    [
      'a subscription for an app the pub/sub is not scoped to',
      (get) => (get('Component', 'pubsub').scopes = ['catalog']),
      'subscription',
      'Subscription/audit-products',
      /not scoped to it/,
    ],
    [
      'a resiliency scope naming no app',
      (get) => (get('Resiliency', 'resiliency').scopes = ['catalog', 'audits']),
      'scopes',
      'Resiliency/resiliency',
      /scope "audits"/,
    ],
    [
      'an access-control policy for an unknown app',
      (get) => (firstPolicyOf(get('Configuration', 'audit-config')).appId = 'frontend'),
      'access-control',
      'Configuration/audit-config',
      /policy for app id "frontend", which is no Dapr app here/,
    ],
    [
      'an access-control policy in the wrong namespace',
      (get) => (firstPolicyOf(get('Configuration', 'audit-config')).namespace = 'default'),
      'access-control',
      'Configuration/audit-config',
      /says namespace "default" but the app runs in "portable-dapr"/,
    ],
    [
      'an access-control action that is not allow/deny',
      (get) => (accessControlOf(get('Configuration', 'catalog-config')).defaultAction = 'block'),
      'access-control',
      'Configuration/catalog-config',
      /"block" must be allow or deny/,
    ],
    // Secrets
    [
      'an env secretKeyRef to an undeclared Secret',
      (get) => (secretRefOf(envOf(containerOf(get('Deployment', 'catalog')), 'DB_PASSWORD')).name = 'catalog-db-creds'),
      'secret-ref',
      'Deployment/catalog',
      /env DB_PASSWORD references Secret "catalog-db-creds", which is neither in the manifests nor declared/,
    ],
    [
      'an env secretKeyRef to a key the Secret does not have',
      (get) => (secretRefOf(envOf(initContainerOf(get('Deployment', 'audit')), 'DB_PASSWORD')).key = 'pwd'),
      'secret-ref',
      'Deployment/audit',
      /key "pwd" of Secret "audit-db-owner-credentials", which declares only: password/,
    ],
    [
      'a component secretKeyRef to an undeclared Secret',
      (get) =>
        (must(metadataEntry(get('Component', 'audit-db'), 'connectionString').secretKeyRef, 'a secretKeyRef').name =
          'audit-db-conn'),
      'secret-ref',
      'Component/audit-db',
      /metadata "connectionString" references Secret "audit-db-conn"/,
    ],
    [
      'an app-token-secret naming an undeclared Secret',
      (get) => (podOf(get('Deployment', 'audit')).metadata.annotations['dapr.io/app-token-secret'] = 'app-token'),
      'secret-ref',
      'Deployment/audit',
      /dapr\.io\/app-token-secret references Secret "app-token"/,
    ],
    [
      'a component secret store that does not exist',
      (get) => (get('Component', 'audit-db').auth = { secretStore: 'vault' }),
      'secret-store',
      'Component/audit-db',
      /auth\.secretStore "vault" names no secret store component/,
    ],
    [
      'a TLS secret that is not declared',
      (get) =>
        (must(podOf(get('Deployment', 'ingress')).spec.volumes?.[1]?.secret, 'the TLS volume').secretName = 'api-tls'),
      'secret-ref',
      'Deployment/ingress',
      /references Secret "api-tls"/,
      'ingress',
    ],
    // Credentials in plain text
    [
      'a plaintext password in env',
      (get) =>
        Object.assign(envOf(containerOf(get('Deployment', 'catalog')), 'DB_PASSWORD'), {
          valueFrom: undefined,
          value: 'hunter2',
        }),
      'plaintext-credential',
      'Deployment/catalog',
      /env DB_PASSWORD is given in plain text/,
    ],
    [
      'a plaintext token in a ConfigMap',
      (get) => (get('ConfigMap', 'catalog-env').data.APP_API_TOKEN = 's3cr3t'),
      'plaintext-credential',
      'ConfigMap/catalog-env',
      /key APP_API_TOKEN looks like a credential/,
    ],
    [
      'a connection string with a password in a component',
      (get) =>
        Object.assign(metadataEntry(get('Component', 'audit-db'), 'connectionString'), {
          secretKeyRef: undefined,
          value: 'host=psql user=audit password=hunter2 dbname=audit',
        }),
      'plaintext-credential',
      'Component/audit-db',
      /a password in a connection string in plain text/,
    ],
    [
      'a Service Bus key in a component',
      (get) =>
        get('Component', 'pubsub').spec.metadata.push({
          name: 'connectionString',
          value: 'Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=abc=',
        }),
      'plaintext-credential',
      'Component/pubsub',
      /shared access key/,
    ],
    [
      'a secret metadata field given as a value',
      (get) => get('Component', 'audit-db').spec.metadata.push({ name: 'password', value: 'hunter2' }),
      'plaintext-credential',
      'Component/audit-db',
      /metadata "password" is a credential given as a plain value/,
    ],
    [
      'a URL with a password',
      (get) =>
        (containerOf(get('Deployment', 'catalog')).env ??= []).push({
          name: 'DATABASE_URL',
          value: 'postgres://catalog:hunter2@psql:5432/catalog',
        }),
      'plaintext-credential',
      'Deployment/catalog',
      /a URL with a password/,
    ],
    [
      'a Secret with data committed in the manifests',
      (_get, docs) =>
        docs.push({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'catalog-db-credentials', namespace: 'portable-dapr' },
          spec: undefined,
          data: { password: 'aHVudGVyMg==' },
        }),
      'plaintext-credential',
      'Secret/catalog-db-credentials',
      /credentials must not be committed/,
    ],
    // Kubernetes cross references
    [
      'an image tagged :latest',
      (get) => (containerOf(get('Deployment', 'catalog')).image = 'myregistry.azurecr.io/catalog:latest'),
      'image-tag',
      'Deployment/catalog',
      /uses :latest/,
    ],
    [
      'an image without a tag',
      (get) => (initContainerOf(get('Deployment', 'catalog')).image = 'myregistry.azurecr.io/catalog'),
      'image-tag',
      'Deployment/catalog',
      /has no tag/,
    ],
    [
      'a resource without a namespace',
      (get) => delete get('Component', 'pubsub').metadata.namespace,
      'namespace',
      'Component/pubsub',
      /has no namespace/,
    ],
    [
      'a Subscription on a pub/sub that does not exist',
      (get) => (get('Subscription', 'audit-products').spec.pubsubname = 'pubsub-sb'),
      'subscription',
      'Subscription/audit-products',
      /pubsubname "pubsub-sb" names no pub\/sub component/,
    ],
    [
      'a dead-letter topic equal to the topic',
      (get) => (get('Subscription', 'audit-products').spec.deadLetterTopic = 'products'),
      'subscription',
      'Subscription/audit-products',
      /refused events would loop/,
    ],
    [
      'a resiliency target that is no component',
      (get) =>
        (get('Resiliency', 'resiliency').spec.targets.components['audit-database'] = {
          outbound: { retry: 'binding' },
        }),
      'resiliency',
      'Resiliency/resiliency',
      /target component "audit-database" is not declared/,
    ],
    [
      'a resiliency policy reference that names nothing',
      (get) =>
        (must(get('Resiliency', 'resiliency').spec.targets.components.pubsub?.outbound, 'outbound policies').retry =
          'publsh'),
      'resiliency',
      'Resiliency/resiliency',
      /retry "publsh" names no retry policy/,
    ],
    [
      'a Service selecting no pod',
      (get) => (get('Service', 'audit').spec.selector = { 'app.kubernetes.io/name': 'auditlogs' }),
      'selector',
      'Service/audit',
      /matches no pod template/,
    ],
    [
      'a Service targeting a port name the pods lack',
      (get) => (must(get('Service', 'catalog').spec.ports[0], 'a port').targetPort = 'web'),
      'selector',
      'Service/catalog',
      /targetPort "web"/,
    ],
    [
      'an HPA scaling nothing',
      (get) => (get('HorizontalPodAutoscaler', 'catalog').spec.scaleTargetRef.name = 'catalogue'),
      'selector',
      'HorizontalPodAutoscaler/catalog',
      /Deployment\/catalogue is not declared/,
    ],
    [
      'a PDB selecting no pod',
      (get) => (get('PodDisruptionBudget', 'audit').spec.selector.matchLabels = { app: 'audit' }),
      'selector',
      'PodDisruptionBudget/audit',
      /matches no pod template/,
    ],
    [
      'a configMapKeyRef to a missing key',
      (get) =>
        (must(
          envOf(containerOf(get('Deployment', 'catalog')), 'DB_SERVER').valueFrom?.configMapKeyRef,
          'a configMapKeyRef',
        ).key = 'DB_HOST'),
      'config-ref',
      'Deployment/catalog',
      /key "DB_HOST" of ConfigMap "azure-settings-/,
    ],
    [
      'a workload identity ServiceAccount without client id',
      (get) => delete get('ServiceAccount', 'audit').metadata.annotations,
      'service-account',
      'ServiceAccount/audit',
      /no azure\.workload\.identity\/client-id annotation/,
    ],
    // Identities and delivery
    [
      'a component naming another identity than a scoped app’s',
      (get) =>
        get('Component', 'pubsub').spec.metadata.push({
          name: 'azureClientId',
          value: get('ServiceAccount', 'catalog').metadata.annotations?.['azure.workload.identity/client-id'],
        }),
      'workload-identity',
      'Component/pubsub',
      /azureClientId "0+-0+-0+-0+-0+1" is not the identity of app "audit" \(ServiceAccount audit: 0+-0+-0+-0+-0+2\)/,
    ],
    [
      'a Service Bus handler timeout shorter than the messages may wait',
      (get) => (metadataEntry(get('Component', 'pubsub'), 'handlerTimeoutInSec').value = '86400'),
      'delivery',
      'Component/pubsub',
      /handlerTimeoutInSec 86400 ends subscription audit-products's bulk deliveries.*\(P14D, 1209600 s\)/,
    ],
    [
      'delivery retries that give up (exponential: 15 minutes, whatever maxRetries says)',
      (get) =>
        (get('Resiliency', 'resiliency').spec.policies.retries.deliver = {
          policy: 'exponential',
          maxInterval: '15s',
          maxRetries: -1,
        }),
      'delivery',
      'Subscription/audit-products',
      /delivery retries of pub\/sub "pubsub" to app "audit" stop after 1[45]m[0-9.]+s: .* dead-letters good events/,
    ],
    [
      'delivery retries that are counted',
      (get) =>
        (must(get('Resiliency', 'resiliency').spec.policies.retries.deliver, 'the deliver policy').maxRetries = 1000),
      'delivery',
      'Subscription/audit-products',
      /stop after 1000 retries/,
    ],
    [
      'no delivery retry policy',
      (get) => delete must(get('Resiliency', 'resiliency').spec.targets.components.pubsub, 'the pubsub target').inbound,
      'delivery',
      'Subscription/audit-products',
      /do not happen \(no inbound retry policy targets it\): the first failure is final/,
    ],
    [
      'a missing ServiceAccount',
      (get) => (podOf(get('Deployment', 'catalog')).spec.serviceAccountName = 'catalog-sa'),
      'service-account',
      'Deployment/catalog',
      /serviceAccountName "catalog-sa" is not declared/,
    ],
    [
      'database pools larger than the server allows',
      (get) => (get('ConfigMap', 'azure-settings').data.DB_SERVER_CONNECTIONS = '35'),
      'database-connections',
      'ConfigMap/azure-settings',
      /may open 196 database connections, more than the server's 35 .*Deployment\/audit: 6 \(autoscaler maximum\) \+ 1 surge pods × \(DB_POOL_MAX 10 \+ audit-db maxConns 8\) = 126/,
    ],
    [
      'a SQL binding without a connection limit',
      (get) =>
        (get('Component', 'audit-db').spec.metadata = get('Component', 'audit-db').spec.metadata.filter(
          (m) => m.name !== 'maxConns',
        )),
      'database-connections',
      'Deployment/audit',
      /binding audit-db sets no maxConns/,
    ],
  ];

  // One argument per row (the case), so jest never mistakes a parameter for a done callback.
  it.each(cases.map((c) => [c[0], c] as const))('%s', (_name, [, mutate, rule, resource, message, from]) => {
    const problems = breakAndValidate(mutate, from);
    const match = problems.find((p) => p.rule === rule && p.resource.startsWith(resource) && message.test(p.message));
    if (!match)
      throw new Error(
        `expected a [${rule}] problem on ${resource} matching ${message}; got:\n${show(problems) || '(no problem)'}`,
      );
  });

  it('reports a declared secret nothing uses', () => {
    const problems = breakAndValidate(() => undefined, 'base', {
      declaredSecrets: [...(baseOptions.declaredSecrets ?? []), { name: 'old-secret', keys: ['x'] }],
    });
    expect(show(problems)).toBe(
      'Secret/old-secret: [secret-ref] declared (prerequisites.yaml) but referenced by nothing: remove it from the list',
    );
  });
});

describe('broken copies of the local resources fail', () => {
  let sets: Awaited<ReturnType<typeof validateLocalRun>> = [];
  beforeAll(async () => (sets = await validateLocalRun(runFile, { root: repoRoot })));
  const copy = (variant = 'redis × postgres') =>
    clone(
      must(
        sets.find((s) => s.label === `dapr.yaml (${variant})`),
        variant,
      ).docs.map((d) => d.resource),
    );
  const validateLocal = (docs: Resource[]) =>
    validateDocuments(docs, {
      facts: daprFacts(),
      mode: 'self-hosted',
      appIds: ['catalog', 'audit'],
      declaredSecrets: Object.keys(localSecrets('audit')).map((name) => ({ name })),
    });
  const find = resourceOf;
  const firstEntryOf = (c: Component) => must(c.spec.metadata[0], `a metadata entry of ${c.metadata.name}`);

  it('a misspelled Redis metadata name', () => {
    const docs = copy();
    firstEntryOf(find(docs, 'Component', 'pubsub')).name = 'redisHots';
    const problems = validateLocal(docs);
    expect(
      problems.some(
        (p) =>
          p.rule === 'component-metadata' && /unknown metadata "redisHots" .*did you mean "redisHost"/.test(p.message),
      ),
    ).toBe(true);
    // redisHost is required by pubsub.redis: its absence is reported too.
    expect(problems.some((p) => p.rule === 'component-metadata-required' && p.message.includes('"redisHost"'))).toBe(
      true,
    );
  });

  it('a RabbitMQ connection string from a secret the local store does not hold', () => {
    const docs = copy('rabbitmq × postgres');
    must(firstEntryOf(find(docs, 'Component', 'pubsub')).secretKeyRef, 'a secretKeyRef').name = 'rabbitmq';
    expect(show(validateLocal(docs))).toMatch(
      /\[secret-ref\] metadata "connectionString" references Secret "rabbitmq"/,
    );
  });

  it('a MariaDB binding given its URL with a password in plain text', () => {
    const docs = copy('redis × mariadb');
    find(docs, 'Component', 'audit-db').spec.metadata[0] = {
      name: 'url',
      value: 'mysql://root:hunter2@127.0.0.1:3306/audit',
    };
    expect(show(validateLocal(docs))).toMatch(/\[plaintext-credential\] a URL with a password/);
  });

  it('a scope naming an app dapr.yaml does not run', () => {
    const docs = copy('jetstream × postgres');
    find(docs, 'Component', 'pubsub').scopes = ['catalog', 'audit', 'billing'];
    expect(show(validateLocal(docs))).toMatch(/\[scopes\] scope "billing" names no Dapr app/);
  });

  it('a required JetStream metadata missing', () => {
    const docs = copy('jetstream × postgres');
    const pubsub = find(docs, 'Component', 'pubsub');
    pubsub.spec.metadata = pubsub.spec.metadata.filter((m) => m.name !== 'natsURL');
    expect(show(validateLocal(docs))).toMatch(
      /\[component-metadata-required\] no authentication profile of pubsub\.jetstream is complete/,
    );
  });

  it('a Configuration with a tracing typo (Dapr CRD, on the server)', async () => {
    const docs = copy();
    untyped(must(find(docs, 'Configuration', 'appconfig').spec.tracing, 'tracing')).sampleRate = '1';
    expect(
      show(
        await validateOnServer(
          server,
          docs.map((resource) => ({ resource })),
        ),
      ),
    ).toMatch(/Configuration\/appconfig: \[schema\] .*unknown field "spec\.tracing\.sampleRate"/);
  });
});

describe('a broken copy on disk fails the command line too', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'k8s-broken-'));
    cpSync(k8sDir, join(dir, 'k8s'), { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a misspelled annotation in k8s/base/catalog/deployment.yaml, in every kustomization built on it', async () => {
    const file = join(dir, 'k8s/base/catalog/deployment.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('dapr.io/app-port:', 'dapr.io/app-prot:'));
    const sets = await validatePath(join(dir, 'k8s'), { root: dir });
    expect(sets).toHaveLength(findKustomizations(join(dir, 'k8s')).length);
    for (const set of sets)
      expect(set.problems.map((p) => `${p.rule} ${p.resource}`)).toContain('dapr-annotation Deployment/catalog');
    const out: string[] = [];
    expect(
      await validateCli(
        [join(dir, 'k8s/base')],
        (l) => out.push(l),
        (l) => out.push(l),
      ),
    ).toBe(1);
    expect(out.join('\n')).toMatch(/unknown Dapr annotation dapr\.io\/app-prot \(did you mean dapr\.io\/app-port\?\)/);
  });

  it('refuses an overlay that removes a secret no base declares', () => {
    writeFileSync(join(dir, 'k8s/overlays/azure-sql/prerequisites.yaml'), 'removeSecrets: [audit-db-bindings]\n');
    expect(() => loadPrerequisites(join(dir, 'k8s/overlays/azure-sql'))).toThrow(
      /removeSecrets names "audit-db-bindings", which no base declares/,
    );
  });

  it('passes the unbroken repository through the command line', async () => {
    const out: string[] = [];
    expect(
      await validateCli(
        [k8sDir, runFile, '--quiet'],
        (l) => out.push(l),
        (l) => out.push(l),
      ),
    ).toBe(0);
    expect(out).toEqual([]);
  });
});
