/**
 * Helpers for the tests that put k8s/ on the test control plane (tools/kube/control-plane.ts): render a
 * kustomization, create what it expects to exist, make a Pod of a workload's pod template, and read the
 * sidecar the Dapr injector put in it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../tools/kube/control-plane';
import { kubeHome } from '../../tools/kube/versions';
import { loadPrerequisites } from '../../tools/validate/load';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** Read through a typed view: WorkloadObject, PodObject, or the kinds of test/support/manifests.ts. */
  spec?: unknown;
}

/** A key of a Secret or ConfigMap, as env and component metadata reference it. */
export interface KeyRef {
  name: string;
  key: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef };
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: Record<string, unknown>;
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}

export interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName: string } }[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Record<string, unknown>[];
}

export type PodObject = Omit<KubeObject, 'spec'> & { spec: PodSpec };

/** A workload (Deployment, StatefulSet, ...): what the tests read of it is its pod template. */
export type WorkloadObject = Omit<KubeObject, 'spec'> & {
  spec: {
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
  };
};

export const isDeployment = (o: KubeObject): o is WorkloadObject => o.kind === 'Deployment';

/** The base and every overlay of a k8s/ folder: the kustomizations a user applies. */
export function kustomizationsOf(k8sDir: string): { label: string; dir: string }[] {
  const overlays = join(k8sDir, 'overlays');
  const names = existsSync(overlays)
    ? readdirSync(overlays)
        .filter((n) => existsSync(join(overlays, n, 'kustomization.yaml')))
        .sort()
    : [];
  return [
    { label: 'base', dir: join(k8sDir, 'base') },
    ...names.map((n) => ({ label: `overlays/${n}`, dir: join(overlays, n) })),
  ];
}

/** What `kubectl apply -k dir` sends, rendered by the kubectl of the test control plane (offline). */
export function render(dir: string): KubeObject[] {
  const kubectl = kubeHome().kubectl;
  if (!existsSync(kubectl))
    throw new Error(`${kubectl} is missing: run \`npm run setup:k8s\` (npm run test:k8s runs it)`);
  const yaml = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject);
}

export function namespaceOf(objects: KubeObject[]): string {
  const ns =
    objects.find((o) => o.kind === 'Namespace')?.metadata.name ??
    objects.find((o) => o.metadata.namespace)?.metadata.namespace;
  if (!ns) throw new Error('the kustomization renders no namespace');
  return ns;
}

/**
 * What a kustomization expects to find (its prerequisites.yaml, see tools/validate/load.ts): each Secret
 * with a dummy value per key, in its namespace; and the namespace's `default` ServiceAccount, which
 * kube-controller-manager would have made (there is none here) and a pod without serviceAccountName uses.
 */
export async function createPrerequisites(cp: KubeClient, dir: string, namespace: string): Promise<string[]> {
  const secrets = loadPrerequisites(dir).secrets.map((s) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: s.name, namespace },
    stringData: Object.fromEntries((s.keys ?? ['value']).map((k) => [k, `dummy-${s.name}-${k}`])),
  }));
  const items = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, ...secrets];
  await cp.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
  return secrets.map((s) => s.metadata.name);
}

/** A Pod made of a workload's pod template, as its controller would make it. */
export function podOf(workload: WorkloadObject, name: string): PodObject {
  const template = workload.spec.template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...template.metadata, name, namespace: workload.metadata.namespace },
    spec: template.spec,
  };
}

/** The Pod the API server would store (admission webhooks included), without storing it. */
export async function dryRunCreate(cp: KubeClient, pod: KubeObject): Promise<{ pod?: PodObject; error: string }> {
  const r = await cp.kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], { input: JSON.stringify(pod) });
  return r.code === 0 ? { pod: JSON.parse(r.stdout) as PodObject, error: '' } : { error: r.stderr.trim() };
}

/** The value after `flag` in a container's args (`--flag value`), undefined when the flag is absent. */
export function argOf(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

/** A pod spec that meets Pod Security "restricted" (k8s/base/namespace.yaml enforces it), for probe pods. */
export function restrictedPodSpec(containers: Container[]): PodSpec {
  return {
    securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    containers: containers.map((c) => ({
      ...c,
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    })),
  };
}
