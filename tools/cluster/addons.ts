/**
 * What runs as pods on a new node before any workload: the cluster DNS (CoreDNS, as kubeadm deploys
 * it) and the Dapr control plane, installed the way users install it, with `helm install` of the chart
 * of the pinned Dapr module.
 */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { capture, elapsed, runStep, say } from '../dapr/progress';
import { DAPR_RUNTIME_VERSION, GO_BUILD_MODULE } from '../dapr/versions';
import { kubeHome } from '../kube/versions';
import { clusterRun } from './layout';
import type { ClusterNode } from './node';

const run = clusterRun();
const log = (message: string) => say(message, 'cluster');

export const DAPR_NAMESPACE = 'dapr-system';

export async function installCoreDns(node: ClusterNode): Promise<void> {
  const started = Date.now();
  await node.kubectlOk(['apply', '-f', join(__dirname, 'manifests', 'coredns.yaml')]);
  await node.kubectlOk(['rollout', 'status', '-n', 'kube-system', 'deployment/coredns', '--timeout=10m']);
  log(`CoreDNS Ready (${elapsed(started)})`);
}

/** charts/dapr of the pinned github.com/dapr/dapr module, copied out of the read-only module cache. */
async function daprChart(): Promise<string> {
  const out = await capture('go', ['mod', 'download', '-json', `github.com/dapr/dapr@v${DAPR_RUNTIME_VERSION}`], {
    cwd: GO_BUILD_MODULE,
    timeoutMs: 300_000,
  });
  const chart = join(run.dir, 'dapr-chart');
  rmSync(chart, { recursive: true, force: true });
  cpSync(join((JSON.parse(out) as { Dir: string }).Dir, 'charts', 'dapr'), chart, { recursive: true });
  return chart;
}

/**
 * The chart's own values, but for the image tag (the chart's default is `edge`), the scheduler's
 * storage (a volume claim, and this node has no storage provisioner: the chart's in-memory option) and
 * the injector's drop-all-capabilities setting, which the restricted Pod Security level of our
 * namespace requires of daprd (docs/deploy-aks.md sets it on AKS too).
 */
export const DAPR_HELM_VALUES = [
  `global.tag=${DAPR_RUNTIME_VERSION}`,
  'dapr_scheduler.cluster.inMemoryStorage=true',
  'dapr_sidecar_injector.sidecarDropALLCapabilities=true',
];

export async function installDapr(): Promise<void> {
  const started = Date.now();
  const chart = await daprChart();
  const args = ['install', 'dapr', chart, '--namespace', DAPR_NAMESPACE, '--create-namespace', '--wait'];
  const values = DAPR_HELM_VALUES.flatMap((v) => ['--set', v]);
  await runStep(
    `helm install dapr (${DAPR_RUNTIME_VERSION})`,
    join(kubeHome().bin, 'helm'),
    [...args, ...values, '--timeout=15m', '--kubeconfig', run.kubeconfig],
    { cwd: run.dir, env: process.env, logFile: join(run.logs, 'helm.log'), label: 'cluster' },
  );
  log(`Dapr ${DAPR_RUNTIME_VERSION} installed with helm, every control plane pod Ready (${elapsed(started)})`);
}
