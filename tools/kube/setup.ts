/**
 * `npm run setup:k8s` (and `npm test`, through pretest): the binaries of the validation API server the
 * manifest tests and `npm run validate` start (./control-plane.ts): .k8s/bin/{etcd,kube-apiserver,kubectl},
 * built from the Go modules pinned in tools/kube-build. The rest of a cluster is tools/cluster/build.ts.
 * There is no release download: only the Go module proxy is assumed reachable. A cold build takes
 * several minutes; a rebuild reuses the Go module and build caches; a rerun with the binaries present is
 * a no-op. Safe to run several times at once (a lock file serialises the builds).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, elapsed, runStep, say } from '../dapr/progress';
import { goEnv, goToolchain, withLock } from '../dapr/setup';
import { ETCD_VERSION, KUBE_BUILD_MODULE, kubeHome, KUBERNETES_VERSION, kubernetesLdflags } from './versions';

const paths = kubeHome();
const log = (message: string) => say(message, 'kube');

/** The main packages of tools/kube-build, and the name each binary gets in .k8s/bin. */
const MAIN_PACKAGES = [
  { pkg: 'go.etcd.io/etcd/server/v3', built: 'server', binary: 'etcd' },
  { pkg: 'k8s.io/kubernetes/cmd/kube-apiserver', built: 'kube-apiserver', binary: 'kube-apiserver' },
  { pkg: 'k8s.io/kubernetes/cmd/kubectl', built: 'kubectl', binary: 'kubectl' },
];

const stampText = `kubernetes=${KUBERNETES_VERSION} etcd=${ETCD_VERSION}`;

function upToDate(): boolean {
  return (
    MAIN_PACKAGES.every((m) => existsSync(join(paths.bin, m.binary))) &&
    existsSync(paths.stamp) &&
    readFileSync(paths.stamp, 'utf8').trim() === stampText
  );
}

/** The versions the built binaries report, checked so that a wrong module pin cannot pass unnoticed. */
async function checkVersions(dir: string): Promise<void> {
  const kubectl = JSON.parse(await capture(join(dir, 'kubectl'), ['version', '--client', '-o', 'json'])) as {
    clientVersion: { gitVersion: string };
  };
  const apiserver = (await capture(join(dir, 'kube-apiserver'), ['--version'])).trim();
  const etcd = await capture(join(dir, 'server'), ['--version']);
  const expected = `v${KUBERNETES_VERSION}`;
  if (kubectl.clientVersion.gitVersion !== expected)
    throw new Error(`the built kubectl reports ${kubectl.clientVersion.gitVersion}, not ${expected}`);
  if (apiserver !== `Kubernetes ${expected}`)
    throw new Error(`the built kube-apiserver reports "${apiserver}", not Kubernetes ${expected}`);
  if (!etcd.includes(`etcd Version: ${ETCD_VERSION}\n`))
    throw new Error(`the built etcd does not report version ${ETCD_VERSION}: ${etcd}`);
}

/** One `go build` for the three, so they share the compile work (kubectl and kube-apiserver share most of it). */
async function buildKubernetes(goVersion: string): Promise<void> {
  const out = join(paths.bin, `.building-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  log(
    `building etcd ${ETCD_VERSION}, kube-apiserver and kubectl ${KUBERNETES_VERSION} from the Go modules with ${goVersion} (CGO off); a cold build takes about 4 minutes on 2 cores, a rebuild reuses the Go caches`,
  );
  await runStep(
    'go build etcd kube-apiserver kubectl',
    'go',
    ['build', '-v', '-trimpath', '-ldflags', kubernetesLdflags(), '-o', out, ...MAIN_PACKAGES.map((m) => m.pkg)],
    { cwd: KUBE_BUILD_MODULE, env: goEnv(), logFile: paths.buildLog, label: 'kube' },
  );
  await checkVersions(out);
  for (const m of MAIN_PACKAGES) renameSync(join(out, m.built), join(paths.bin, m.binary));
  rmSync(out, { recursive: true, force: true });
  writeFileSync(paths.stamp, stampText);
}

async function ensureKubernetes(): Promise<void> {
  if (upToDate()) return;
  const go = await goToolchain();
  if (!go) {
    throw new Error(
      `cannot build the Kubernetes control plane (etcd ${ETCD_VERSION}, kube-apiserver ${KUBERNETES_VERSION}) the manifest tests run: no Go toolchain (1.21 or newer) is installed.\n` +
        'Install Go (https://go.dev/dl/, or your OS package: `apt-get install golang-go`); it fetches the Go version the build asks for itself. Then rerun `npm run setup:k8s`.',
    );
  }
  await buildKubernetes(go);
}

/** Makes the binaries of the validation API server available (see the header). */
export async function ensureKubeControlPlane(): Promise<void> {
  const started = Date.now();
  mkdirSync(paths.bin, { recursive: true });
  await withLock(paths.lock, ensureKubernetes);
  log(
    `etcd ${ETCD_VERSION}, kube-apiserver and kubectl ${KUBERNETES_VERSION} in ${paths.bin}: ready (${elapsed(started)})`,
  );
}

if (require.main === module) {
  ensureKubeControlPlane().catch((err: unknown) => {
    console.error(`[kube] ${(err as Error).message}`);
    process.exit(1);
  });
}
