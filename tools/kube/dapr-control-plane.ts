/**
 * The Dapr 1.18.3 control plane on the test API server, as the Helm chart installs it
 * (./manifests/README.md says what each object comes from and what differs): sentry (the certificate
 * authority), the sidecar injector as a real mutating webhook (failurePolicy Fail) and the operator (the
 * Subscription conversion webhook; it also reconciles the `<app>-dapr` Services). Placement and the
 * scheduler are left out: nothing here runs a sidecar that would use them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { daprHome, DAPR_RUNTIME_VERSION } from '../dapr/versions';
import type { ControlPlane } from './control-plane';
import { Pod, runPod } from './pod-runner';
import { KUBE_MANIFESTS } from './versions';

export const DAPR_NAMESPACE = 'dapr-system';
const manifest = (file: string) => join(KUBE_MANIFESTS, file);
const podsFile = manifest('control-plane-pods.yaml');

/** The manifests are derived from one chart version: refuse to run them with binaries of another. */
function checkPodImages(): void {
  const pods = parseAllDocuments(readFileSync(podsFile, 'utf8')).map((d) => d.toJS() as Pod);
  const images = pods.flatMap((p) => p.spec.containers.map((c) => (c as { image?: string }).image ?? ''));
  const stale = images.filter((i) => !i.endsWith(`:${DAPR_RUNTIME_VERSION}`));
  if (stale.length)
    throw new Error(
      `${podsFile} describes ${stale.join(', ')}, but the project pins Dapr ${DAPR_RUNTIME_VERSION}: re-derive tools/kube/manifests from that chart (see its README.md)`,
    );
}

/**
 * The ConfigMap kube-root-ca.crt, which kube-controller-manager publishes in every namespace and the
 * ServiceAccount volume of every pod reads (there is no controller-manager here).
 */
async function publishRootCa(cp: ControlPlane, namespace: string): Promise<void> {
  const cm = await cp.kubectlOk([
    'create',
    'configmap',
    'kube-root-ca.crt',
    '-n',
    namespace,
    `--from-file=ca.crt=${cp.pki.caCert}`,
    '--dry-run=client',
    '-o',
    'yaml',
  ]);
  await cp.kubectlOk(['apply', '-f', '-'], { input: cm });
}

async function trustBundlePublished(cp: ControlPlane): Promise<boolean> {
  const r = await cp.kubectl([
    'get',
    'configmap',
    'dapr-trust-bundle',
    '-n',
    DAPR_NAMESPACE,
    '-o',
    'jsonpath={.data.ca\\.crt}',
  ]);
  return r.stdout.includes('BEGIN CERTIFICATE');
}

/** A pod that asks for a sidecar, created in dry-run: true once the API server gets it back with daprd in it. */
async function sidecarInjected(cp: ControlPlane): Promise<boolean> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'injector-probe',
      namespace: DAPR_NAMESPACE,
      annotations: { 'dapr.io/enabled': 'true', 'dapr.io/app-id': 'injector-probe' },
    },
    spec: {
      serviceAccountName: 'dapr-operator',
      automountServiceAccountToken: false,
      containers: [{ name: 'app', image: 'busybox' }],
    },
  };
  const r = await cp.kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(pod) });
  if (r.code !== 0) throw new Error(r.stderr.trim());
  return (JSON.parse(r.stdout) as Pod).spec.containers.some((c) => c.name === 'daprd');
}

/** A v1alpha1 Subscription created in dry-run: stored as v2alpha1, so the API server calls the conversion webhook. */
async function subscriptionConverted(cp: ControlPlane): Promise<boolean> {
  const subscription = {
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Subscription',
    metadata: { name: 'conversion-probe', namespace: DAPR_NAMESPACE },
    spec: { pubsubname: 'pubsub', topic: 'probe', route: '/probe' },
  };
  const r = await cp.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(subscription) });
  if (r.code !== 0) throw new Error(r.stderr.trim());
  return true;
}

export async function startDaprControlPlane(cp: ControlPlane): Promise<void> {
  checkPodImages();
  const dapr = daprHome();
  const binaries = { sentry: dapr.sentry, injector: dapr.injector, operator: dapr.operator };
  // The namespace first: kubectl applies the files in this order.
  await cp.kubectlOk([
    'apply',
    ...['dapr-system.yaml', 'rbac-sentry.yaml', 'rbac-injector.yaml', 'rbac-operator.yaml'].flatMap((f) => [
      '-f',
      manifest(f),
    ]),
  ]);
  await publishRootCa(cp, DAPR_NAMESPACE);
  await cp.kubectlOk(['apply', '-f', podsFile]);

  await runPod(cp, DAPR_NAMESPACE, 'dapr-sentry', binaries);
  await cp.waitFor(
    'sentry to publish the trust bundle (ConfigMap dapr-trust-bundle)',
    () => trustBundlePublished(cp),
    ['dapr-sentry'],
    60_000,
  );

  await cp.kubectlOk(['apply', '-f', manifest('injector-webhook.yaml')]);
  await runPod(cp, DAPR_NAMESPACE, 'dapr-sidecar-injector', binaries);
  await cp.waitFor(
    'the sidecar injector to inject a pod',
    () => sidecarInjected(cp),
    ['dapr-sidecar-injector', 'dapr-sentry', 'kube-apiserver'],
    90_000,
  );

  await cp.kubectlOk([
    'patch',
    'crd',
    'subscriptions.dapr.io',
    '--type=merge',
    `--patch-file=${manifest('subscription-conversion-port.yaml')}`,
  ]);
  await runPod(cp, DAPR_NAMESPACE, 'dapr-operator', binaries);
  await cp.waitFor(
    'the operator to convert a v1alpha1 Subscription',
    () => subscriptionConverted(cp),
    ['dapr-operator', 'dapr-sentry', 'kube-apiserver'],
    90_000,
  );
}
