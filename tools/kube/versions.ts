import { join } from 'node:path';
import { PROJECT_ROOT } from '../dapr/versions';

/**
 * The Kubernetes control plane the manifest tests run against. The API server is the one AKS runs
 * (1.34); etcd is the release that Kubernetes line is tested with. Changing a version here means
 * regenerating tools/kube-build/go.mod: `npx tsx tools/kube/build-module.ts` (see its header).
 */
export const KUBERNETES_VERSION = '1.34.2';
export const ETCD_VERSION = '3.6.4';

/** The k8s.io staging modules (client-go, apimachinery, ...) are published as v0.<minor>.<patch> of Kubernetes 1.<minor>.<patch>. */
export function stagingVersion(kubernetes = KUBERNETES_VERSION): string {
  const [, minor, patch] = kubernetes.split('.');
  return `v0.${minor}.${patch}`;
}

export const KUBE_BUILD_MODULE = join(PROJECT_ROOT, 'tools', 'kube-build');

/** Objects the control plane installs besides the CRDs (derived from the Dapr Helm chart; see each file). */
export const KUBE_MANIFESTS = join(PROJECT_ROOT, 'tools', 'kube', 'manifests');

/** The project-local home of the control plane binaries (git-ignored). */
export function kubeHome(root = PROJECT_ROOT) {
  const home = join(root, '.k8s');
  const bin = join(home, 'bin');
  return {
    home,
    bin,
    etcd: join(bin, 'etcd'),
    kubeApiserver: join(bin, 'kube-apiserver'),
    kubectl: join(bin, 'kubectl'),
    /** Records the versions the binaries in bin/ were built at: a rerun with a matching stamp is a no-op. */
    stamp: join(bin, '.versions'),
    buildLog: join(home, 'build.log'),
    lock: join(home, 'setup.lock'),
  };
}

/**
 * What `kubectl version` and `kube-apiserver --version` report: the variables the Kubernetes build
 * sets (hack/lib/version.sh). Without them the binaries say v0.0.0-master+$Format:%H$, which kubectl
 * cannot parse. gitCommit is unknown in a module build: zeros, like the tree-state-clean builds of forks.
 */
export function kubernetesLdflags(version = KUBERNETES_VERSION): string {
  const [major, minor] = version.split('.');
  const pkg = 'k8s.io/component-base/version';
  return [
    '-s',
    '-w',
    `-X ${pkg}.gitVersion=v${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitCommit=${'0'.repeat(40)}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
  ].join(' ');
}
