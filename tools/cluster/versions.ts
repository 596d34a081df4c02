import { join } from 'node:path';
import { daprHome, PROJECT_ROOT } from '../dapr/versions';
import { kubeHome } from '../kube/versions';

/**
 * The pins of the single-node Kubernetes cluster the tests run, besides Kubernetes and etcd
 * (tools/kube/versions.ts) and Dapr (tools/dapr/versions.ts). Each is built from its Go module in
 * tools/<name>-build; changing a version there means `go get <module>@<version> && go mod tidy` in that
 * folder too.
 */
/**
 * helm installs the Dapr chart the way it is installed on AKS. 3.21 is built against the 1.36 client
 * modules; helm supports the Kubernetes release it is built against and the three before it, 1.34 included.
 */
export const HELM_VERSION = '3.21.4';
/** The cluster DNS, served by CoreDNS's kubernetes plugin (kubeadm 1.34 would deploy the older 1.12.1). */
export const COREDNS_VERSION = '1.15.0';
/**
 * The pod sandbox program: the kubelet runs no image of its own, the container runtime's default
 * sandbox image (registry.k8s.io/pause:3.10 for containerd 2) names this version. Built from the
 * pause.c that the k8s.io/kubernetes module carries (build/pause/linux).
 */
export const PAUSE_VERSION = '3.10';

export const HELM_BUILD_MODULE = join(PROJECT_ROOT, 'tools', 'helm-build');
export const COREDNS_BUILD_MODULE = join(PROJECT_ROOT, 'tools', 'coredns-build');

/**
 * Every binary the single-node cluster runs, by absolute path: the node components, helm, CoreDNS and
 * pause in .k8s/bin (built by tools/cluster/build.ts), and the control plane binaries the manifest tests
 * also use (etcd, kube-apiserver, kubectl; the Dapr control plane in .dapr/bin).
 */
export function clusterBinaries(root = PROJECT_ROOT) {
  const kube = kubeHome(root);
  const dapr = daprHome(root);
  return {
    etcd: kube.etcd,
    kubeApiserver: kube.kubeApiserver,
    kubectl: kube.kubectl,
    kubelet: join(kube.bin, 'kubelet'),
    kubeControllerManager: join(kube.bin, 'kube-controller-manager'),
    kubeScheduler: join(kube.bin, 'kube-scheduler'),
    kubeProxy: join(kube.bin, 'kube-proxy'),
    helm: join(kube.bin, 'helm'),
    coredns: join(kube.bin, 'coredns'),
    pause: join(kube.bin, 'pause'),
    daprd: dapr.daprd,
    sentry: dapr.sentry,
    injector: dapr.injector,
    operator: dapr.operator,
    placement: join(dapr.bin, 'placement'),
    scheduler: join(dapr.bin, 'scheduler'),
  };
}
