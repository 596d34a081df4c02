/**
 * The configuration files of the node's daemons, written into the run folder before they start.
 * Paths that the daemons hard-code (/run, /var/lib, /var/log) are tmpfs mounts of the node's private
 * mount namespace (./namespace-init.sh), so their defaults are kept wherever they are harmless.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Pki } from '../kube/pki';
import { PAUSE_IMAGE } from './images';
import { ClusterRun, NODE } from './layout';

export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/**
 * containerd 1.6's CRI plugin. `restrict_oom_score_adj`: without CAP_SYS_RESOURCE (common in
 * containers and CI sandboxes) runc cannot lower a process's OOM score, and every pod sandbox fails
 * with "can't get final child's PID from pipe"; with it containerd never asks below its own score.
 */
function containerdToml(cniConfDir: string): string {
  return `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "${CONTAINERD_SOCKET}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${cniPluginDir()}"
    conf_dir = "${cniConfDir}"
`;
}

/** Where Debian's containernetworking-plugins puts the plugins, else the upstream default. */
function cniPluginDir(): string {
  return process.env.CNI_PLUGIN_DIR ?? '/usr/lib/cni';
}

/** One bridge for every pod, NAT to the outside (which, in the namespace, is nothing), hairpin for Services. */
function cniConflist(): object {
  return {
    cniVersion: '1.0.0',
    name: 'pods',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: NODE.podCidr }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/**
 * The kubelet: cgroupfs driver (no systemd in here), cgroup v1 accepted (Kubernetes 1.34 still runs on
 * it), pods under a cgroup of their own that the supervisor removes, the API server's client
 * certificate trusted for exec and port-forward, no disk-pressure eviction (the node's file systems
 * are tmpfs mounts that cAdvisor cannot measure), no host resolv.conf: pods resolve through CoreDNS only.
 */
function kubeletConfig(run: ClusterRun, pki: Pki, cgroupRoot: string): object {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE.ip,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: pki.caCert } },
    authorization: { mode: 'AlwaysAllow' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot,
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    clusterDNS: [NODE.dnsServiceIp],
    clusterDomain: NODE.clusterDomain,
    resolvConf: join(run.config, 'resolv.conf'),
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '0%', 'imagefs.available': '0%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    localStorageCapacityIsolation: false,
    serializeImagePulls: false,
    podLogsDir: '/var/log/pods',
  };
}

/** A kubeconfig for a daemon inside the namespace: the admin client certificate, the API server on loopback. */
export function kubeconfigFor(pki: Pki, server: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cluster', cluster: { server, 'certificate-authority': pki.caCert } }],
    users: [{ name: 'admin', user: { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey } }],
    contexts: [{ name: 'cluster', context: { cluster: 'cluster', user: 'admin' } }],
    'current-context': 'cluster',
  };
}

export interface NodeConfigFiles {
  containerd: string;
  kubelet: string;
  /** The admin kubeconfig inside the namespace (API server on its loopback). */
  kubeconfig: string;
}

/** Where writeNodeConfig() writes them: also what a process that attaches to a running node reads. */
export function nodeConfigFiles(run: ClusterRun): NodeConfigFiles {
  return {
    containerd: join(run.config, 'containerd.toml'),
    kubelet: join(run.config, 'kubelet.yaml'),
    kubeconfig: join(run.config, 'admin.kubeconfig'),
  };
}

export function writeNodeConfig(run: ClusterRun, pki: Pki, cgroupRoot: string): NodeConfigFiles {
  const cniConfDir = join(run.config, 'cni');
  mkdirSync(cniConfDir, { recursive: true });
  const files = nodeConfigFiles(run);
  writeFileSync(files.containerd, containerdToml(cniConfDir));
  writeFileSync(join(cniConfDir, '10-pods.conflist'), JSON.stringify(cniConflist(), null, 2));
  writeFileSync(files.kubelet, stringify(kubeletConfig(run, pki, cgroupRoot)));
  writeFileSync(join(run.config, 'resolv.conf'), '');
  writeFileSync(files.kubeconfig, stringify(kubeconfigFor(pki, `https://127.0.0.1:${NODE.apiserverPort}`)), {
    mode: 0o600,
  });
  return files;
}
