/**
 * The validation API server itself (tools/kube/control-plane.ts, what tools/validate uses for
 * server-side strict validation): it must come up and validate like a real API server, and leave
 * nothing behind, even when the process that started it is killed. The whole cluster, with the Dapr
 * control plane and the app running, is cluster.k8s.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ControlPlane, daprCrdDir } from '../../tools/kube/control-plane';
import { KUBERNETES_VERSION } from '../../tools/kube/versions';
import { isAlive } from '../../tools/stack/process';
import { waitUntil } from '../support/wait';

const repoRoot = resolve(__dirname, '../..');
const alive = (pid: number | undefined) => pid !== undefined && isAlive(pid);

describe('ControlPlane.start()', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await ControlPlane.start();
  });
  afterAll(() => cp?.stop());

  it(`serves Kubernetes v${KUBERNETES_VERSION} on 127.0.0.1, kubectl of the same version`, async () => {
    const version = JSON.parse(await cp.kubectlOk(['version', '-o', 'json'])) as Record<string, { gitVersion: string }>;
    expect(version.clientVersion?.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(version.serverVersion?.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
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

describe('ControlPlane.stop()', () => {
  it('ends every process and removes the temporary folder', async () => {
    const cp = await ControlPlane.start();
    const pids = cp.processes.map((p) => p.pid);
    expect(pids.every(alive)).toBe(true);
    await cp.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(existsSync(cp.dir)).toBe(false);
  });

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
  });
});
