import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { daprHome, PROJECT_ROOT } from '../../tools/dapr/versions';
import { freePorts, ManagedProcess } from '../../tools/stack';
import { runId } from '../support/databases';
import { stackPerTest } from '../support/lifecycle';
import { settledEntries } from '../support/scenario';
import { waitUntil } from '../support/wait';

/** Who may call: app tokens, component scopes, and access control between app ids (with mTLS). */
const { start, onCleanup } = stackPerTest('acc');

describe('reliability: who may call', () => {
  it('with APP_API_TOKEN set, refuses calls without the right dapr-api-token; with DAPR_API_TOKEN, daprd refuses callers without its own', async () => {
    // Set where a CLI user sets them, in the environment `dapr run` runs in: daprd and the apps inherit it.
    const { stack } = await start({ env: { APP_API_TOKEN: `app-${runId()}`, DAPR_API_TOKEN: `api-${runId()}` } });
    const catalog = stack.node('catalog');

    expect((await fetch(`${catalog.appUrl}/api/products`)).status).toBe(401);
    expect((await fetch(`${catalog.appUrl}/api/products`, { headers: { 'dapr-api-token': 'guess' } })).status).toBe(
      401,
    );
    expect((await fetch(`${catalog.appUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${catalog.daprUrl}/v1.0/invoke/catalog/method/api/products`)).status).toBe(401);
    // With the sidecar's token, daprd calls the app with the app token, and the app's own calls to its
    // sidecar (publish, binding) carry DAPR_API_TOKEN: the whole path works.
    const created = await stack.invoke('catalog', 'POST', '/api/products', {
      body: { name: 'Guarded', type: 'T', price: 1 },
    });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: number }).id;
    const entries = await settledEntries(stack, 1, (e) => e.subjectId === id);
    expect(entries.map((e) => e.eventType)).toEqual(['product.created']);
  });

  it('scopes keep the SQL binding away from the catalog', async () => {
    const { stack } = await start();
    const components = async (id: 'catalog' | 'audit') =>
      (
        (await (await fetch(`${stack.node(id).daprUrl}/v1.0/metadata`)).json()) as { components: { name: string }[] }
      ).components.map((c) => c.name);
    expect(await components('audit')).toContain('audit-db');
    expect(await components('catalog')).not.toContain('audit-db');
    const res = await fetch(`${stack.node('catalog').daprUrl}/v1.0/bindings/audit-db`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'exec', metadata: { sql: 'DELETE FROM audit_logs', params: '[]' } }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.text()).toMatch(/audit-db/);
  });

  it('access control (with mTLS from a local sentry) lets the catalog call the audit API and denies another app id', async () => {
    const sentryBin = daprHome().sentry;
    if (!existsSync(sentryBin)) {
      console.warn(`skipping the access-control check: ${sentryBin} is missing (npm run setup builds it)`);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'pdm-sentry-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'creds')); // sentry writes a new CA here (it watches the folder, which must exist)
    writeFileSync(
      join(dir, 'config.yaml'),
      'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: daprsystem\nspec:\n  mtls:\n    enabled: true\n',
    );
    const [sentryPort, healthPort, metricsPort] = await freePorts(3);
    const sentry = new ManagedProcess({
      name: 'sentry',
      command: sentryBin,
      args: [
        '--config',
        join(dir, 'config.yaml'),
        '--issuer-credentials',
        join(dir, 'creds'),
        '--trust-domain',
        'localhost',
        '--port',
        `${sentryPort}`,
        '--healthz-port',
        `${healthPort}`,
        '--metrics-port',
        `${metricsPort}`,
        '--listen-address',
        '127.0.0.1',
      ],
      cwd: dir,
      env: process.env,
      logFile: join(dir, 'sentry.log'),
    });
    sentry.start();
    onCleanup(() => sentry.stop());
    await waitUntil('sentry to write its CA', async () =>
      existsSync(join(dir, 'creds', 'ca.crt')) ? true : undefined,
    );
    await waitUntil('sentry to be healthy', async () =>
      (await fetch(`http://127.0.0.1:${healthPort}/healthz`)).ok ? true : undefined,
    );
    // The run file's Configuration with mTLS on (the CLI then adds --enable-mtls and a sentry address)
    // and access control: the audit API answers the catalog (and itself) only.
    const config = join(dir, 'configuration.yaml');
    const committed = parse(readFileSync(join(PROJECT_ROOT, 'components', 'configuration.yaml'), 'utf8')) as {
      spec: Record<string, unknown>;
    };
    committed.spec.mtls = { enabled: true };
    committed.spec.accessControl = {
      defaultAction: 'deny',
      trustDomain: 'public',
      policies: [
        { appId: 'catalog', defaultAction: 'allow', trustDomain: 'public', namespace: 'default' },
        { appId: 'audit', defaultAction: 'allow', trustDomain: 'public', namespace: 'default' },
      ],
    };
    writeFileSync(config, stringify(committed));
    const mtlsEnv = { DAPR_TRUST_ANCHORS: readFileSync(join(dir, 'creds', 'ca.crt'), 'utf8') };
    const sentryAddress = `127.0.0.1:${sentryPort}`;
    const { stack } = await start({ env: mtlsEnv, configFile: config, sentryAddress });
    expect((await stack.invoke('audit', 'GET', '/api/auditlogs', { via: 'catalog' })).status).toBe(200);

    // Another app id with the same components and configuration, started like the others' sidecars.
    const catalog = stack.node('catalog');
    const [http, grpc, internal, metrics] = await freePorts(4);
    const args = catalog.daprd.args.slice();
    const set = (flag: string, value: string) => (args[args.indexOf(flag) + 1] = value);
    set('--app-id', 'intruder');
    set('--dapr-http-port', `${http}`);
    set('--dapr-grpc-port', `${grpc}`);
    set('--dapr-internal-grpc-port', `${internal}`);
    set('--metrics-port', `${metrics}`);
    // No app behind this one: no app port, nothing to health-check.
    for (const [flag, values] of [
      ['--app-port', 1],
      ['--app-health-check-path', 1],
      ['--app-health-probe-interval', 1],
      ['--enable-app-health-check', 0],
    ] as const)
      args.splice(args.indexOf(flag), 1 + values);
    const intruder = new ManagedProcess({
      name: 'intruder-daprd',
      command: catalog.daprd.file,
      args,
      cwd: catalog.daprd.cwd,
      env: catalog.daprd.env,
      logFile: join(dir, 'intruder.log'),
    });
    intruder.start();
    onCleanup(() => intruder.stop());
    await waitUntil(
      'the intruder sidecar',
      async () => ((await fetch(`http://127.0.0.1:${http}/v1.0/healthz`)).status === 204 ? true : undefined),
      30_000,
    );
    const denied = await fetch(`http://127.0.0.1:${http}/v1.0/invoke/audit/method/api/auditlogs`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toMatch(/access control policy has denied access/);
  });
});
