/**
 * k8s/ on a real single-node Kubernetes 1.34 (tools/cluster: the upstream binaries, containerd, runc,
 * the CNI bridge, CoreDNS and the Dapr 1.18.3 Helm chart, inside namespaces of its own), started once
 * for all the suites of this file and ended with it (or with this process, however it ends):
 *   1. the cluster itself: node Ready, CoreDNS and the Dapr control plane Ready;
 *   2. the base and every overlay: accepted by `kubectl apply -k`, each pod as the injector makes it
 *      (on-cluster-manifests.ts; only the local overlay's images exist here, so only it runs);
 *   3. k8s/overlays/local running, events flowing, day 2 under load (on-cluster-app.ts).
 * Nothing about Azure itself (Service Bus, Azure Database, workload identity, AKS policies) is proven here.
 */
import { DAPR_NAMESPACE, startCluster } from '../../tools/cluster/cluster';
import { NODE } from '../../tools/cluster/layout';
import type { ClusterNode } from '../../tools/cluster/node';
import { describeLocalApp } from './on-cluster-app';
import { describeManifests } from './on-cluster-manifests';

let node: ClusterNode | undefined;
const cluster = () => {
  if (!node) throw new Error('the cluster did not start (see the beforeAll error)');
  return node;
};

beforeAll(async () => {
  node = await startCluster({ owner: process.pid });
}, 60 * 60_000);
afterAll(() => node?.down(), 120_000);

interface PodList {
  items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[];
}

const ready = (list: PodList) =>
  list.items.map((p) => [p.metadata.name, p.status.conditions?.find((c) => c.type === 'Ready')?.status]);

describe('the cluster', () => {
  it(`has node ${NODE.name} Ready, on containerd`, async () => {
    const n = JSON.parse(await cluster().kubectlOk(['get', 'node', NODE.name, '-o', 'json'])) as {
      status: { nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string } };
    };
    expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    expect(n.status.nodeInfo.kubeletVersion).toBe('v1.34.2');
  });

  it('runs CoreDNS as pods, Ready, behind the Service address the kubelet gives every pod', async () => {
    const pods = JSON.parse(
      await cluster().kubectlOk(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'json']),
    ) as PodList;
    expect(ready(pods).map(([, status]) => status)).toEqual(['True']);
    const ip = await cluster().kubectlOk([
      'get',
      'service',
      'kube-dns',
      '-n',
      'kube-system',
      '-o',
      'jsonpath={.spec.clusterIP}',
    ]);
    expect(ip).toBe(NODE.dnsServiceIp);
  });

  it('runs the Dapr control plane from its Helm chart, every pod Ready', async () => {
    const pods = JSON.parse(await cluster().kubectlOk(['get', 'pods', '-n', DAPR_NAMESPACE, '-o', 'json'])) as PodList;
    const names = pods.items.map((p) => p.metadata.name).join(' ');
    for (const part of [
      'dapr-sentry',
      'dapr-sidecar-injector',
      'dapr-operator',
      'dapr-placement-server',
      'dapr-scheduler-server',
    ])
      expect(names).toContain(part);
    expect(ready(pods).filter(([, status]) => status !== 'True')).toEqual([]);
  });
});

describeManifests(cluster);
describeLocalApp(cluster);
