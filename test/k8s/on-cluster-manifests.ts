/**
 * k8s/ on the local cluster (tools/cluster: Kubernetes 1.34 with the Dapr 1.18.3 chart installed): what
 * `kubectl apply -k` does with the base and every overlay, what the sidecar injector makes of their
 * pods, and that a broken manifest is refused with its reason.
 * Expectations are read from the rendered manifests, so the tests follow them as they change.
 * K8S_MANIFESTS_DIR=<a copy of k8s/> runs them on that copy (e.g. an older commit's) instead.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { KubeClient } from '../../tools/kube/control-plane';
import {
  argOf,
  Container,
  createPrerequisites,
  dryRunCreate,
  isDeployment,
  kustomizationsOf,
  namespaceOf,
  podOf,
  PodObject,
  Probe,
  render,
  restrictedPodSpec,
  WorkloadObject,
} from '../support/kube';
import { Kinds, ofKind, untyped } from '../support/manifests';
import { must } from '../support/must';
import { waitUntil } from '../support/wait';

const k8sDir = resolve(process.env.K8S_MANIFESTS_DIR ?? join(__dirname, '..', '..', 'k8s'));
const kustomizations = kustomizationsOf(k8sDir);
const base = must(kustomizations[0], 'the base kustomization');
/** Each overlay applied over the previous state, as a user switching overlays would, then the base again. */
const sequence = [...kustomizations, { ...base, label: 'base (again, after the overlays)' }].map((k) => ({
  ...k,
  objects: render(k.dir),
}));

/**
 * The manifest suites, on a running cluster (`client()`): registered by cluster.k8s.test.ts, which
 * starts the cluster. They apply into the base's namespace; the local app is deployed after them.
 */
export function describeManifests(client: () => KubeClient): void {
  // The cluster starts in a beforeAll, after the suites are registered: every call goes to it then.
  const cp: KubeClient = {
    kubectl: (args, options) => client().kubectl(args, options),
    kubectlOk: (args, options) => client().kubectlOk(args, options),
  };
  /** `kubectl apply -k` as a user runs it, with server-side strict field validation. */
  const applyK = (dir: string) => cp.kubectl(['apply', '-k', dir, '--validate=strict']);

  /** One line per object: `<kind>/<name> created|configured|unchanged`. */
  const appliedLines = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter((l) => / (created|configured|unchanged)$/.test(l));

  const annotationsOf = (workload: WorkloadObject) => workload.spec.template.metadata?.annotations ?? {};

  /** Annotations the injector turns into a daprd flag carrying the same value. */
  const VALUE_FLAGS: Record<string, string> = {
    'dapr.io/app-id': '--app-id',
    'dapr.io/app-port': '--app-port',
    'dapr.io/config': '--config',
    'dapr.io/app-protocol': '--app-protocol',
    'dapr.io/log-level': '--log-level',
    'dapr.io/sidecar-listen-addresses': '--dapr-listen-addresses',
    'dapr.io/metrics-port': '--metrics-port',
    'dapr.io/app-health-check-path': '--app-health-check-path',
    'dapr.io/app-health-probe-interval': '--app-health-probe-interval',
    'dapr.io/app-health-probe-timeout': '--app-health-probe-timeout',
    'dapr.io/app-health-threshold': '--app-health-threshold',
    'dapr.io/graceful-shutdown-seconds': '--dapr-graceful-shutdown-seconds',
    'dapr.io/block-shutdown-duration': '--dapr-block-shutdown-duration',
    'dapr.io/app-max-concurrency': '--app-max-concurrency',
    'dapr.io/max-body-size': '--max-body-size',
  };
  /** Annotations the injector turns into a flag without a value when "true". */
  const SWITCH_FLAGS: Record<string, string> = {
    'dapr.io/log-as-json': '--log-as-json',
    'dapr.io/enable-metrics': '--enable-metrics',
    'dapr.io/enable-app-health-check': '--enable-app-health-check',
  };
  const PROBE_FIELDS: Record<string, keyof Probe> = {
    'delay-seconds': 'initialDelaySeconds',
    'timeout-seconds': 'timeoutSeconds',
    'period-seconds': 'periodSeconds',
    threshold: 'failureThreshold',
  };

  /** The sidecar's resources as the annotations ask, in the API server's canonical form (it rewrites quantities). */
  async function expectedResources(namespace: string, a: Record<string, string>): Promise<Container['resources']> {
    const pick = (entries: [string, string | undefined][]): Record<string, string> =>
      Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined));
    const requests = pick([
      ['cpu', a['dapr.io/sidecar-cpu-request']],
      ['memory', a['dapr.io/sidecar-memory-request']],
    ]);
    const limits = pick([
      ['cpu', a['dapr.io/sidecar-cpu-limit']],
      ['memory', a['dapr.io/sidecar-memory-limit']],
    ]);
    const probe = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'quantities', namespace },
      spec: restrictedPodSpec([{ name: 'c', image: 'busybox', resources: { requests, limits } }]),
    };
    const { pod, error } = await dryRunCreate(cp, probe);
    if (!pod) throw new Error(error);
    return must(pod.spec.containers[0], 'the container of the probe pod').resources;
  }

  /** Both probes watch daprd's public port (liveness: that it listens; readiness: /v1.0/healthz); timings as annotated. */
  function expectProbe(
    probe: Probe | undefined,
    kind: 'liveness' | 'readiness',
    publicPort: string,
    a: Record<string, string>,
  ): void {
    if (kind === 'liveness') expect(probe?.tcpSocket).toEqual({ port: Number(publicPort) });
    else expect(probe?.httpGet).toEqual({ path: '/v1.0/healthz', port: Number(publicPort), scheme: 'HTTP' });
    for (const [suffix, field] of Object.entries(PROBE_FIELDS)) {
      const set = a[`dapr.io/sidecar-${kind}-probe-${suffix}`];
      if (set !== undefined) expect(probe?.[field]).toBe(Number(set));
    }
  }

  /** The injected daprd matches what the rendered Deployment's annotations ask for. */
  async function expectSidecarAsAnnotated(
    daprd: Container,
    volumes: { name: string }[],
    namespace: string,
    a: Record<string, string>,
  ): Promise<void> {
    const args = daprd.args ?? [];
    for (const [annotation, flag] of Object.entries(VALUE_FLAGS))
      if (a[annotation] !== undefined) expect({ [flag]: argOf(args, flag) }).toEqual({ [flag]: a[annotation] });
    for (const [annotation, flag] of Object.entries(SWITCH_FLAGS))
      if (a[annotation] !== undefined)
        expect({ [flag]: args.includes(flag) }).toEqual({ [flag]: a[annotation] === 'true' });
    const env = Object.fromEntries((daprd.env ?? []).map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    if (a['dapr.io/api-token-secret'])
      expect(env.DAPR_API_TOKEN).toEqual({ name: a['dapr.io/api-token-secret'], key: 'token' });
    if (a['dapr.io/app-token-secret'])
      expect(env.APP_API_TOKEN).toEqual({ name: a['dapr.io/app-token-secret'], key: 'token' });
    expect(daprd.resources).toEqual(await expectedResources(namespace, a));
    const publicPort = must(argOf(args, '--dapr-public-port'), "daprd's --dapr-public-port");
    expectProbe(daprd.livenessProbe, 'liveness', publicPort, a);
    expectProbe(daprd.readinessProbe, 'readiness', publicPort, a);
    // The injector mounts a sentry token in the sidecar only when it has one itself, as on AKS.
    expect(volumes.map((v) => v.name)).toContain('dapr-identity-token');
    // Its API on localhost only, unless the annotation says otherwise; no Kubernetes API token when the pod
    // mounts none, and no secret store needing one; every capability dropped (Pod Security "restricted").
    if (a['dapr.io/sidecar-listen-addresses'] === undefined)
      expect(argOf(args, '--dapr-listen-addresses')).toBe('[::1],127.0.0.1');
    if (a['dapr.io/disable-builtin-k8s-secret-store'] === 'true')
      expect(args).toContain('--disable-builtin-k8s-secret-store');
    expect(daprd.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  }

  /**
   * The same Pod as the API server admits it when the injector leaves it alone (dapr.io/enabled "false"):
   * the reference for what the injector changed (the API server itself adds the ServiceAccount volume).
   */
  async function withoutInjection(workload: WorkloadObject, name: string): Promise<PodObject> {
    const pod = podOf(workload, `${name}-not-injected`);
    pod.metadata.annotations = { ...pod.metadata.annotations, 'dapr.io/enabled': 'false' };
    const { pod: admitted, error } = await dryRunCreate(cp, pod);
    if (!admitted) throw new Error(error);
    return admitted;
  }

  /** The API server names each pod's ServiceAccount volume kube-api-access-<random>: compared without the suffix. */
  const sansServiceAccountVolume = (containers: Container[] | undefined) =>
    JSON.parse(
      JSON.stringify(containers ?? []).replace(/kube-api-access-[a-z0-9]+/g, 'kube-api-access'),
    ) as Container[];

  describe.each(sequence)('kubectl apply -k $label', ({ dir, objects }) => {
    const namespace = namespaceOf(objects);
    const deployments = objects.filter(isDeployment);

    it(`is accepted: each of its ${objects.length} objects (prerequisite Secrets created first, dummy values)`, async () => {
      await createPrerequisites(cp, dir, namespace);
      const r = await applyK(dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(appliedLines(r.stdout)).toHaveLength(objects.length);
    });

    it.each(deployments.map((d) => [d.metadata.name, d]))(
      'Deployment %s: a Pod of its template gets the daprd its annotations ask for, init containers untouched',
      async (name, rendered) => {
        const stored = JSON.parse(
          await cp.kubectlOk(['get', 'deployment', name, '-n', namespace, '-o', 'json']),
        ) as WorkloadObject;
        const { pod: admitted, error } = await dryRunCreate(cp, podOf(stored, `${name}-from-template`));
        expect(error).toBe('');
        const pod = must(admitted, 'the admitted Pod');
        const a = annotationsOf(rendered);
        const daprd = pod.spec.containers.find((c) => c.name === 'daprd');
        if (a['dapr.io/enabled'] !== 'true') {
          expect(daprd).toBeUndefined();
          return;
        }
        await expectSidecarAsAnnotated(must(daprd, 'the injected daprd'), pod.spec.volumes ?? [], namespace, a);
        if (stored.spec.template.spec.automountServiceAccountToken === false)
          expect((pod.spec.volumes ?? []).map((v) => v.name).filter((n) => n.startsWith('kube-api-access'))).toEqual(
            [],
          );
        expect(sansServiceAccountVolume(pod.spec.initContainers)).toEqual(
          sansServiceAccountVolume((await withoutInjection(stored, name)).spec.initContainers),
        );
      },
    );

    it('a Pod of that namespace without dapr.io/enabled gets no daprd', async () => {
      const plain = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'plain', namespace },
        spec: restrictedPodSpec([{ name: 'app', image: 'busybox' }]),
      };
      const { pod, error } = await dryRunCreate(cp, plain);
      expect(error).toBe('');
      expect(pod?.spec.containers.map((c) => c.name)).toEqual(['app']);
    });

    it('the Dapr operator makes the <app-id>-dapr Service of each Dapr-enabled Deployment', async () => {
      const appIds = deployments
        .map(annotationsOf)
        .filter((a) => a['dapr.io/enabled'] === 'true')
        .map((a) => a['dapr.io/app-id']);
      for (const appId of appIds) {
        await waitUntil(
          `Service ${appId}-dapr`,
          async () =>
            (await cp.kubectl(['get', 'service', `${appId}-dapr`, '-n', namespace])).code === 0 ? true : undefined,
          30_000,
          500,
        );
      }
    });
  });

  describe(`kubectl apply -k ${base.label} again, from a copy of k8s/`, () => {
    let copy: string;
    beforeAll(() => {
      copy = mkdtempSync(join(tmpdir(), 'k8s-copy-'));
      cpSync(k8sDir, copy, { recursive: true });
    });
    afterAll(() => rmSync(copy, { recursive: true, force: true }));
    const copyOf = (label: string) => join(copy, label);

    it('unchanged, twice in a row: accepted both times', async () => {
      for (let i = 0; i < 2; i++) {
        const r = await applyK(copyOf('base'));
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
    });

    it('after a settings change (a value in azure-settings.properties): accepted', async () => {
      const file = join(copyOf('base'), 'azure-settings.properties');
      // The first KEY=value line gets another value (a new ConfigMap name: kustomize hashes the content).
      const lines = readFileSync(file, 'utf8').split('\n');
      const at = lines.findIndex((l) => /^[A-Z_]+=/.test(l));
      lines[at] = `${lines[at]}-edited`;
      writeFileSync(file, lines.join('\n'));
      const r = await applyK(copyOf('base'));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });

    it('after an image change (a newTag in kustomization.yaml images): accepted', async () => {
      const file = join(copyOf('base'), 'kustomization.yaml');
      const doc = parseDocument(readFileSync(file, 'utf8'));
      const images = doc.get('images') as { items: { set(key: string, value: string): void }[] };
      for (const image of images.items) image.set('newTag', '1.0.1-retest');
      writeFileSync(file, doc.toString());
      const r = await applyK(copyOf('base'));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const deployments = render(copyOf('base')).filter(isDeployment);
      for (const d of deployments) {
        const ns = must(d.metadata.namespace, `the namespace of ${d.metadata.name}`);
        const stored = JSON.parse(
          await cp.kubectlOk(['get', 'deployment', d.metadata.name, '-n', ns, '-o', 'json']),
        ) as WorkloadObject;
        const images = (o: WorkloadObject) => o.spec.template.spec.containers.map((c) => c.image);
        expect(images(stored)).toEqual(images(d));
      }
    });
  });

  describe('a broken manifest is refused by the API server with its reason', () => {
    const { objects } = must(sequence[0], 'the base');
    /** A copy of the first object of `kind`, to break. */
    const first = <K extends keyof Kinds>(kind: K) => structuredClone(must(ofKind(objects, kind)[0], `a ${kind}`));
    const dryRunApply = (o: object) =>
      cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: JSON.stringify(o) });

    it('an unknown field in a Deployment', async () => {
      const d = first('Deployment');
      untyped(must(d.spec.template.spec.containers[0], 'a container')).imagePullPolicyy = 'Always';
      const r = await dryRunApply(d);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('unknown field "spec.template.spec.containers[0].imagePullPolicyy"');
    });

    it('an unknown field in a Dapr Component spec (spec.metdata)', async () => {
      const c = first('Component');
      const spec = untyped(c.spec);
      spec.metdata = spec.metadata;
      delete spec.metadata;
      const r = await dryRunApply(c);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('unknown field "spec.metdata"');
    });

    it('a wrong type in a Dapr Subscription (bulkSubscribe.maxMessagesCount: "many")', async () => {
      const s = first('Subscription');
      untyped(s.spec).bulkSubscribe = { ...s.spec.bulkSubscribe, enabled: true, maxMessagesCount: 'many' };
      const r = await dryRunApply(s);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        /spec\.bulkSubscribe\.maxMessagesCount: Invalid value: "string": spec\.bulkSubscribe\.maxMessagesCount in body must be of type integer/,
      );
    });

    it('a Pod with a Dapr annotation the injector cannot read (dapr.io/app-port: "abc")', async () => {
      const pod = podOf(first('Deployment'), 'bad-app-port');
      pod.metadata.annotations = { ...pod.metadata.annotations, 'dapr.io/app-port': 'abc' };
      const { pod: admitted, error } = await dryRunCreate(cp, pod);
      // Not refused: Dapr 1.18.3's injector ignores an app-port it cannot parse and injects daprd without
      // --app-port, so the sidecar would never call the app (no subscriptions, no invocation) and nothing
      // says so at deploy time. The offline rules (tools/validate) have to catch this one.
      expect(error).toBe('');
      const daprd = must(admitted, 'the admitted Pod').spec.containers.find((c) => c.name === 'daprd');
      expect(daprd).toBeDefined();
      expect(daprd?.args).not.toContain('--app-port');
    });
  });
}
