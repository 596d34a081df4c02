import { join } from 'node:path';
import { PROJECT_ROOT } from '../dapr/versions';

/**
 * The fixed addresses of the single-node cluster. They exist only inside the node's own network
 * namespace, so they cannot collide with anything on the machine; the ranges are kubeadm's defaults.
 */
export const NODE = {
  name: 'portable-dapr-node',
  /** The node's address, on a veth pair whose both ends stay inside the namespace. */
  ip: '10.200.0.1',
  podCidr: '10.244.0.0/24',
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
  /** The ClusterIP of the `kubernetes` Service: the first address of the service range. */
  apiServiceIp: '10.96.0.1',
  /** CoreDNS's Service: what the kubelet writes into every pod's resolv.conf. */
  dnsServiceIp: '10.96.0.10',
  apiserverPort: 6443,
  etcdPort: 2379,
  etcdPeerPort: 2380,
  clusterDomain: 'cluster.local',
} as const;

/**
 * Where a running cluster keeps what must outlive the command that started it (git-ignored): the
 * credentials, the configuration files, the logs and the sockets of the loopback bridges. Containerd's
 * and the kubelet's state never land here: they live on tmpfs mounts inside the node's mount namespace
 * and vanish with it.
 */
export function clusterRun(root = PROJECT_ROOT) {
  const dir = join(root, '.cluster', 'run');
  return {
    dir,
    pki: join(dir, 'pki'),
    config: join(dir, 'config'),
    logs: join(dir, 'logs'),
    sockets: join(dir, 'sockets'),
    /** What the supervisor writes once the namespaces exist: its pid, the namespace holder's, the bridge port. */
    state: join(dir, 'state.json'),
    /** The admin kubeconfig for clients on this machine, through the loopback bridge to the API server. */
    kubeconfig: join(root, '.cluster', 'kubeconfig'),
  };
}

export type ClusterRun = ReturnType<typeof clusterRun>;

/** The cgroup (v1: in every hierarchy) under which the kubelet puts every pod: one per supervisor, removed by it. */
export const CGROUP_PREFIX = 'portable-dapr-cluster-';
