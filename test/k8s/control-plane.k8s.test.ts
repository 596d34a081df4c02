/**
 * The test control plane itself (tools/kube/control-plane.ts). Without Dapr (what tools/validate uses for
 * server-side strict validation) it must come up and validate like a real API server; with Dapr, keep
 * the Dapr processes in their sandbox; and either must leave nothing behind, even when the process that
 * started it is killed. What the Dapr control plane does with k8s/ is in cluster.k8s.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ControlPlane, daprCrdDir } from '../../tools/kube/control-plane';
import { KUBERNETES_VERSION } from '../../tools/kube/versions';
import { waitUntil } from '../support/wait';

const repoRoot = resolve(__dirname, '../..');
const alive = (pid: number | undefined) => {
  try {
    process.kill(pid!, 0);
    return true;
  } catch {
    return false;
  }
};

describe('ControlPlane.start({ dapr: false })', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await ControlPlane.start({ dapr: false });
  }, 120_000);
  afterAll(() => cp?.stop());

  it(`serves Kubernetes v${KUBERNETES_VERSION} on 127.0.0.1, kubectl of the same version`, async () => {
    const version = JSON.parse(await cp.kubectlOk(['version', '-o', 'json'])) as Record<string, { gitVersion: string }>;
    expect(version.clientVersion!.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(version.serverVersion!.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('has every CRD of the Dapr chart established', async () => {
    const files = readdirSync(await daprCrdDir()).filter((f) => f.endsWith('.yaml'));
    const crds = JSON.parse(await cp.kubectlOk(['get', 'crd', '-o', 'json'])) as {
      items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
    };
    expect(crds.items).toHaveLength(files.length);
    for (const crd of crds.items)
      expect(crd.status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
  });

  it('refuses an unknown field under server-side strict validation, naming it', async () => {
    const component = [
      'apiVersion: dapr.io/v1alpha1',
      'kind: Component',
      'metadata: { name: probe, namespace: default }',
      'spec: { type: state.in-memory, version: v1, metdata: [] }',
    ].join('\n');
    const r = await cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: component });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown field "spec.metdata"');
  });
});

describe('ControlPlane.start({ dapr: true })', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await ControlPlane.start({ dapr: true });
  }, 240_000);
  afterAll(() => cp?.stop());

  it('runs etcd, kube-apiserver and the Dapr control plane in one network namespace that is not this one', () => {
    const netns = (pid: number | undefined) => readlinkSync(`/proc/${pid}/ns/net`);
    const names = cp.processes.map((p) => p.options.name);
    expect(names).toEqual(
      expect.arrayContaining(['etcd', 'kube-apiserver', 'dapr-sentry', 'dapr-sidecar-injector', 'dapr-operator']),
    );
    const namespaces = new Set(cp.processes.map((p) => netns(p.pid)));
    expect(namespaces.size).toBe(1);
    expect(namespaces.has(netns(process.pid))).toBe(false);
  });

  it('runs each Dapr process as a non-root user (Dapr refuses root in Kubernetes mode)', () => {
    for (const name of ['dapr-sentry', 'dapr-sidecar-injector', 'dapr-operator'])
      expect(readFileSync(cp.logOf(name), 'utf8')).toContain('Running in Kubernetes environment as user 65532');
  });

  it("gives each Dapr process its pod's files in a /var/run of its own, not the host's", () => {
    const injector = cp.processes.find((p) => p.options.name === 'dapr-sidecar-injector')!;
    // Its file system as it sees it; /var/run is usually a symlink, which would resolve to the host's.
    const inPod = (path: string) =>
      readFileSync(`/proc/${injector.pid}/root${realpathSync('/var/run')}/${path}`, 'utf8');
    expect(inPod('secrets/kubernetes.io/serviceaccount/namespace')).toBe('dapr-system');
    expect(inPod('secrets/dapr.io/sentrytoken/token')).toMatch(/^ey/);
    expect(existsSync('/var/run/secrets/dapr.io/sentrytoken/token')).toBe(false);
  });
});

describe('ControlPlane.stop()', () => {
  it('ends every process and removes the temporary folder', async () => {
    const cp = await ControlPlane.start();
    const pids = cp.processes.map((p) => p.pid);
    expect(pids.every(alive)).toBe(true);
    await cp.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(cp.dir)).toBe(false);
  }, 120_000);

  it('leaves nothing running when the process that started it is killed (SIGKILL)', async () => {
    const script = [
      "const { ControlPlane } = require('./tools/kube/control-plane');",
      'ControlPlane.start().then((cp) => console.log(JSON.stringify({ dir: cp.dir, pids: cp.processes.map((p) => p.pid) })));',
    ].join('\n');
    // node itself with tsx's loader, not the tsx launcher, which would run the script in a child of its own.
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const started = await waitUntil(
      'the child to start a control plane',
      async () => (out.includes('\n') ? (JSON.parse(out) as { dir: string; pids: number[] }) : undefined),
      120_000,
      200,
    );
    expect(started.pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    await waitUntil('its processes to end', async () => (started.pids.some(alive) ? undefined : true), 10_000);
    // Its temporary folder stays (nothing ran stop()): removed here.
    rmSync(started.dir, { recursive: true, force: true });
  }, 150_000);
});
