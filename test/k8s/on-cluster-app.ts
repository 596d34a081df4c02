/**
 * k8s/overlays/local running on the local cluster, as a user deploys it (`kubectl apply -k`), with the
 * test's own PostgreSQL and Redis (test/k8s/local-cluster): migrations as init containers, both apps
 * with their injected sidecars, the API through the catalog's sidecar, events from pod to pod, the
 * apps' access control across pods, and day-2 operations under load. Registered by cluster.k8s.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { migrations as auditMigrations } from '../../audit/src/migrations';
import { migrations as catalogMigrations } from '../../catalog/src/migrations';
import { clusterRun } from '../../tools/cluster/layout';
import type { ClusterNode } from '../../tools/cluster/node';
import {
  APP_NAMESPACE,
  createSecrets,
  overlaySecrets,
  secretValue,
  startTestPostgres,
  startTestRedis,
  TEST_OVERLAY,
  testSql,
} from '../support/cluster';
import type { PodObject } from '../support/kube';
import { must } from '../support/must';
import { changeProducts, Invoker, settledEntries, summarize } from '../support/scenario';
import { sleep, waitUntil } from '../support/wait';

const repoRoot = resolve(__dirname, '..', '..');
type Secrets = Record<string, Record<string, string>>;

interface RunningPod extends PodObject {
  status: {
    phase: string;
    initContainerStatuses?: { name: string; state: { terminated?: { exitCode: number } } }[];
    containerStatuses?: { name: string; ready: boolean }[];
  };
}

/** Service invocation through one sidecar reached by a port-forward, with that sidecar's API token. */
function sidecarInvoker(url: () => string, token: string): Invoker {
  return {
    invoke: (appId, method, path, init = {}) =>
      fetch(`${url()}/v1.0/invoke/${appId}/method${path}`, {
        method,
        headers: { 'dapr-api-token': token, 'content-type': 'application/json', ...init.headers },
        body: init.body === undefined ? init.rawBody : JSON.stringify(init.body),
        signal: AbortSignal.timeout(30_000),
      }),
  };
}

export function describeLocalApp(client: () => ClusterNode): void {
  describe('k8s/overlays/local, running (kubectl apply -k, the test servers in place of the official images)', () => {
    let secrets: Secrets;
    let forward: { url: string; stop(): void } | undefined;
    let invoker: Invoker;
    const node = () => client();
    const sql = (db: string, text: string) =>
      testSql(node(), secretValue(secrets, 'postgres-superuser', 'password'), db, text);
    const forwardUrl = () => must(forward, 'the port-forward to the catalog sidecar').url;
    const catalogToken = () => secretValue(secrets, 'catalog-dapr-api-token', 'token');
    const pods = async (app: string) =>
      (
        JSON.parse(
          await node().kubectlOk([
            'get',
            'pods',
            '-n',
            APP_NAMESPACE,
            '-l',
            `app.kubernetes.io/name=${app}`,
            '-o',
            'json',
          ]),
        ) as { items: RunningPod[] }
      ).items.filter((p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp);
    const rolledOut = (app: string) =>
      node().kubectlOk(['rollout', 'status', '-n', APP_NAMESPACE, `deployment/${app}`, '--timeout=15m'], {
        timeoutMs: 16 * 60_000,
      });
    /** A port-forward to the catalog's sidecar API (port 3500), made again when its pod went away. */
    const catalogSidecar = async () => {
      forward?.stop();
      forward = await node().portForward(APP_NAMESPACE, 'deployment/catalog', 3500);
      return forward.url;
    };

    beforeAll(async () => {
      // The manifest suites applied the base and the overlays into the same namespace: start afresh.
      await node().kubectlOk(['delete', 'namespace', APP_NAMESPACE, '--ignore-not-found', '--timeout=10m'], {
        timeoutMs: 11 * 60_000,
      });
      secrets = overlaySecrets();
      await startTestPostgres(node(), secrets);
      startTestRedis(node(), secretValue(secrets, 'redis-password', 'password'));
      await node().kubectlOk(['apply', '-f', join(repoRoot, 'k8s', 'base', 'namespace.yaml')]);
      await createSecrets(node(), secrets);
      await node().kubectlOk(['apply', '-k', TEST_OVERLAY]);
      await Promise.all([rolledOut('catalog'), rolledOut('audit')]);
      await catalogSidecar();
      invoker = sidecarInvoker(forwardUrl, catalogToken());
    }, 40 * 60_000);
    afterAll(() => forward?.stop());

    it('ran the migrations as the init containers, as the owner roles; each pod 2/2 Running and Ready', async () => {
      for (const app of ['catalog', 'audit']) {
        const running = await pods(app);
        expect(running).toHaveLength(2);
        for (const pod of running) {
          expect(pod.status.phase).toBe('Running');
          expect(pod.status.initContainerStatuses?.map((s) => [s.name, s.state.terminated?.exitCode])).toEqual([
            ['migrate', 0],
          ]);
          expect(pod.status.containerStatuses?.map((s) => [s.name, s.ready]).sort()).toEqual(
            [
              [app, true],
              ['daprd', true],
            ].sort(),
          );
        }
      }
      expect(await sql('catalog', 'SELECT count(*) FROM schema_migrations')).toEqual([
        String(catalogMigrations.length),
      ]);
      expect(await sql('audit', 'SELECT count(*) FROM schema_migrations')).toEqual([String(auditMigrations.length)]);
      expect(await sql('catalog', "SELECT tableowner FROM pg_tables WHERE tablename = 'products'")).toEqual([
        'catalog_owner',
      ]);
      expect(await sql('audit', "SELECT tableowner FROM pg_tables WHERE tablename = 'audit_logs'")).toEqual([
        'audit_owner',
      ]);
    });

    it('gave every pod the injected daprd: loopback API, every capability dropped, no Kubernetes API token', async () => {
      for (const app of ['catalog', 'audit']) {
        for (const pod of await pods(app)) {
          const daprd = must(
            pod.spec.containers.find((c) => c.name === 'daprd'),
            `the daprd container of ${pod.metadata.name}`,
          );
          const args = daprd.args ?? [];
          expect(args[args.indexOf('--app-id') + 1]).toBe(app);
          expect(args[args.indexOf('--dapr-listen-addresses') + 1]).toBe('[::1],127.0.0.1');
          expect(daprd.securityContext).toMatchObject({ capabilities: { drop: ['ALL'] } });
          expect((pod.spec.volumes ?? []).map((v) => v.name).filter((n) => n.startsWith('kube-api-access'))).toEqual(
            [],
          );
        }
      }
    });

    it('runs the images built from the Dockerfile as uid 1000, without dev dependencies, app files read-only', async () => {
      const exec = (script: string) =>
        node().kubectl(['exec', '-n', APP_NAMESPACE, 'deployment/catalog', '-c', 'catalog', '--', 'sh', '-c', script]);
      expect((await exec('id -u')).stdout.trim()).toBe('1000');
      for (const dev of ['typescript', 'jest', 'ts-jest', 'eslint']) {
        const r = await exec(`node -e "require.resolve('${dev}')"`);
        expect({ dev, found: r.code === 0 }).toEqual({ dev, found: false });
      }
      const writable = await exec('find . -writable -not -path "./node_modules/.cache*" | head -5');
      expect(writable.stdout.trim()).toBe('');
    });

    it('resolves Service names through CoreDNS, and a ClusterIP Service routes to a pod', async () => {
      const script = [
        "const dns = require('node:dns/promises');",
        "dns.lookup('audit.portable-dapr.svc.cluster.local')",
        ".then((a) => fetch('http://audit.portable-dapr.svc.cluster.local/healthz').then((r) => console.log(a.address, r.status)))",
        '.catch((e) => { console.error(e.message); process.exit(1); });',
      ].join('');
      const out = await node().kubectlOk([
        'exec',
        '-n',
        APP_NAMESPACE,
        'deployment/catalog',
        '-c',
        'catalog',
        '--',
        'node',
        '-e',
        script,
      ]);
      const clusterIp = await node().kubectlOk([
        'get',
        'service',
        'audit',
        '-n',
        APP_NAMESPACE,
        '-o',
        'jsonpath={.spec.clusterIP}',
      ]);
      expect(out.trim()).toBe(`${clusterIp} 200`);
    });

    it('serves the API through the catalog sidecar, and every change reaches the audit log (read sidecar to sidecar, mTLS)', async () => {
      const expected = await changeProducts(invoker, '-k8s');
      const ids = new Set(expected.map((e) => e.subjectId));
      const entries = await settledEntries(
        invoker,
        expected.length,
        (e) => e.subjectId !== null && ids.has(e.subjectId),
        120_000,
      );
      expect(summarize(entries)).toEqual(summarize(expected));
      // mTLS: the control plane's Configuration turns it on, and each sidecar holds a workload
      // certificate from sentry (the identity the other sidecar checks).
      const mtls = await node().kubectlOk([
        'get',
        'configurations.dapr.io',
        'daprsystem',
        '-n',
        'dapr-system',
        '-o',
        'jsonpath={.spec.mtls.enabled}',
      ]);
      expect(mtls).toBe('true');
      const auditPod = must((await pods('audit'))[0], 'an audit pod');
      const log = await node().kubectlOk(['logs', '-n', APP_NAMESPACE, auditPod.metadata.name, '-c', 'daprd']);
      expect(log).toContain('Starting workload identity expiry watcher');
    });

    it("holds the apps' access control across pods: catalog may read the audit log, may not write it", async () => {
      expect((await invoker.invoke('audit', 'GET', '/api/auditlogs')).status).toBe(200);
      const write = await invoker.invoke('audit', 'POST', '/api/auditlogs', {
        body: { logMessage: 'forged', eventType: 'product.created' },
      });
      expect(write.status).toBe(403);
    });

    it("serves on each sidecar's API only what its app uses, and only on the pod's loopback", async () => {
      const sidecar = (path: string, method = 'GET') =>
        fetch(`${forwardUrl()}${path}`, { method, headers: { 'dapr-api-token': catalogToken() } });
      expect((await sidecar('/v1.0/healthz')).status).toBe(204);
      expect((await sidecar('/v1.0/metadata')).status).toBe(200);
      expect((await sidecar('/v1.0/state/any/key')).status).toBe(404);
      expect((await sidecar('/v1.0/bindings/audit-db', 'POST')).status).toBe(404);
      const [catalogPod] = await pods('catalog');
      const ip = (catalogPod as unknown as { status: { podIP: string } }).status.podIP;
      const fromAudit = await node().kubectl([
        'exec',
        '-n',
        APP_NAMESPACE,
        'deployment/audit',
        '-c',
        'audit',
        '--',
        'node',
        '-e',
        `fetch('http://${ip}:3500/v1.0/healthz').then((r) => console.log(r.status), (e) => console.log(e.cause?.code))`,
      ]);
      expect(fromAudit.stdout.trim()).toBe('ECONNREFUSED');
    });

    it('day 2: scaled, a burst of 1,000+ changes while an audit pod is deleted and the catalog rolled; each audited once; rollout undo', async () => {
      await node().kubectlOk(['scale', '-n', APP_NAMESPACE, 'deployment/catalog', '--replicas=3']);
      await node().kubectlOk(['scale', '-n', APP_NAMESPACE, 'deployment/audit', '--replicas=2']);
      await Promise.all([rolledOut('catalog'), rolledOut('audit')]);
      const before = await templateOf(node(), 'catalog');

      let done = false;
      const burst = sendBurst(() => done, invoker, catalogSidecar);
      try {
        await sleep(2_000);
        const victim = must((await pods('audit'))[0], 'an audit pod');
        await node().kubectlOk(['delete', 'pod', '-n', APP_NAMESPACE, victim.metadata.name, '--wait=false']);
        await node().kubectlOk(['apply', '-k', rolloutKustomization('LOG_LEVEL=debug')]);
        await rolledOut('catalog');
        await rolledOut('audit');
      } finally {
        done = true;
      }
      const sent = await burst;
      expect(sent).toBeGreaterThanOrEqual(1_000);
      const sentAt = Date.now();

      const created = Number((await sql('catalog', "SELECT count(*) FROM products WHERE name LIKE 'Burst %'"))[0]);
      expect(created).toBeGreaterThanOrEqual(sent);
      const audited = async () =>
        Number(
          (
            await sql(
              'audit',
              "SELECT count(DISTINCT subject_id) FROM audit_logs WHERE event_type = 'product.created' AND log_message LIKE 'Product Added. Name - Burst %'",
            )
          )[0],
        );
      await waitUntil(
        'every burst product audited',
        async () => ((await audited()) >= created ? true : undefined),
        600_000,
        1_000,
      );
      await sleep(5_000);
      expect(await audited()).toBe(created);
      console.log(
        `day 2: ${sent} creates sent while an audit pod was deleted and the catalog rolled; ${created} products, each audited once, the last ${Date.now() - sentAt - 5_000} ms after the burst ended`,
      );
      const twice = await sql(
        'audit',
        "SELECT subject_id FROM audit_logs WHERE log_message LIKE 'Product Added. Name - Burst %' GROUP BY subject_id HAVING count(*) > 1",
      );
      expect(twice).toEqual([]);

      await node().kubectlOk(['rollout', 'undo', '-n', APP_NAMESPACE, 'deployment/catalog']);
      await rolledOut('catalog');
      expect(await templateOf(node(), 'catalog')).toEqual(before);
    });
  });
}

/** The catalog's pod template's config map references: what a config change and its undo move. */
async function templateOf(node: ClusterNode, app: string): Promise<string[]> {
  const d = JSON.parse(await node.kubectlOk(['get', 'deployment', app, '-n', APP_NAMESPACE, '-o', 'json'])) as {
    spec: { template: { spec: { containers: { envFrom?: { configMapRef?: { name: string } }[] }[] } } };
  };
  return d.spec.template.spec.containers.flatMap((c) => (c.envFrom ?? []).map((e) => e.configMapRef?.name ?? ''));
}

/**
 * A settings change as a user makes one: a kustomization over the test overlay that merges a value into
 * the catalog's environment (a new ConfigMap name, so the Deployment rolls).
 */
function rolloutKustomization(literal: string): string {
  const dir = join(clusterRun().dir, 'rollout');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(dir, TEST_OVERLAY)}`,
      'configMapGenerator:',
      '  - name: catalog-env',
      '    namespace: portable-dapr',
      '    behavior: merge',
      `    literals: [${literal}]`,
      '',
    ].join('\n'),
  );
  return dir;
}

/**
 * Creates products through the catalog's sidecar, 8 at a time, until `stop()` and at least 1,000 sent.
 * A request that fails because its pod went away (the roll) is sent again through a new port-forward:
 * a retried create may have been made the first time too, so the check counts products, not requests.
 */
async function sendBurst(stop: () => boolean, invoker: Invoker, reconnect: () => Promise<string>): Promise<number> {
  let sent = 0;
  let reconnecting: Promise<string> | undefined;
  const deadline = Date.now() + 20 * 60_000;
  const worker = async () => {
    while (!stop() || sent < 1_000) {
      if (Date.now() > deadline) throw new Error(`the burst sent only ${sent} creates in 20 minutes`);
      const name = `Burst ${sent++}`;
      for (;;) {
        const res = await invoker
          .invoke('catalog', 'POST', '/api/products', { body: { name, type: 'Burst', price: 1 } })
          .catch(() => undefined);
        if (res?.status === 201) break;
        reconnecting ??= reconnect().finally(() => (reconnecting = undefined));
        await reconnecting.catch(() => sleep(1_000));
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return sent;
}
