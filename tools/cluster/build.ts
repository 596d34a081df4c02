/**
 * The binaries of the single-node Kubernetes cluster the tests run (`npm run cluster -- up`,
 * `npm run test:k8s`), built here since only the Go module proxy is assumed reachable:
 *   - .k8s/bin/{kubelet,kube-controller-manager,kube-scheduler,kube-proxy} from tools/kube-build, after
 *     the control plane binaries of tools/kube/setup.ts, so the compile work they share comes from the Go
 *     build cache;
 *   - .k8s/bin/helm from tools/helm-build, .k8s/bin/coredns from tools/coredns-build;
 *   - .k8s/bin/pause, compiled with gcc from the pause.c the k8s.io/kubernetes module carries;
 *   - .dapr/bin/{sentry,injector,operator,placement,scheduler} from tools/dapr-build (the Dapr images).
 * `npm test` does not build these: its pretest builds only what its own tests use. A stamp per group
 * records the versions it was built at, so a rerun with everything present is a quick no-op.
 *   npx tsx tools/cluster/build.ts
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { capture, elapsed, runStep, say } from '../dapr/progress';
import { ensureDaprControlPlane, goEnv, goToolchain, withLock } from '../dapr/setup';
import { ensureKubeControlPlane } from '../kube/setup';
import { KUBE_BUILD_MODULE, kubeHome, KUBERNETES_VERSION, kubernetesLdflags } from '../kube/versions';
import {
  clusterBinaries,
  COREDNS_BUILD_MODULE,
  COREDNS_VERSION,
  HELM_BUILD_MODULE,
  HELM_VERSION,
  PAUSE_VERSION,
} from './versions';

const kube = kubeHome();
const bins = clusterBinaries();
const log = (message: string) => say(message, 'cluster');

/** Binaries built together, with the tool that builds them and the versions their stamp records. */
interface Group {
  id: string;
  binaries: string[];
  stampText: string;
  tool: 'go' | 'gcc';
  /** Builds the binaries into `out` and checks the versions they report. */
  build: (out: string) => Promise<void>;
}

const stampOf = (group: Group) => join(kube.bin, `.${group.id}.version`);

function upToDate(group: Group): boolean {
  return (
    group.binaries.every((b) => existsSync(b)) &&
    existsSync(stampOf(group)) &&
    readFileSync(stampOf(group), 'utf8').trim() === group.stampText
  );
}

/** Runs `binary args` and checks that one line of its output is `expected`, so a wrong pin cannot pass unnoticed. */
async function expectVersion(binary: string, args: string[], expected: string): Promise<void> {
  const output = await capture(binary, args, { timeoutMs: 30_000 });
  if (!output.split('\n').some((line) => line.trim() === expected))
    throw new Error(`the built ${basename(binary)} does not report "${expected}": ${output.trim()}`);
}

function goBuild(step: string, module: string, args: string[]): Promise<void> {
  return runStep(step, 'go', ['build', '-v', '-trimpath', ...args], {
    cwd: module,
    env: goEnv(),
    logFile: kube.buildLog,
    label: 'cluster',
  });
}

const NODE_BINARIES = [bins.kubelet, bins.kubeControllerManager, bins.kubeScheduler, bins.kubeProxy];

/** One `go build` for the four, with the flags of tools/kube/setup.ts, so they reuse its compile work. */
const node: Group = {
  id: 'node',
  binaries: NODE_BINARIES,
  stampText: `kubernetes=${KUBERNETES_VERSION}`,
  tool: 'go',
  build: async (out) => {
    const names = NODE_BINARIES.map((b) => basename(b));
    log(
      `building ${names.join(', ')} ${KUBERNETES_VERSION} (CGO off); about 2 minutes on 2 cores after the control plane build, whose Go build cache it reuses`,
    );
    await goBuild(`go build ${names.join(' ')}`, KUBE_BUILD_MODULE, [
      '-ldflags',
      kubernetesLdflags(),
      '-o',
      out,
      ...names.map((n) => `k8s.io/kubernetes/cmd/${n}`),
    ]);
    for (const n of names) await expectVersion(join(out, n), ['--version'], `Kubernetes v${KUBERNETES_VERSION}`);
  },
};

/**
 * What helm's Makefile links in: its version, and the Kubernetes version `helm template` and `helm lint`
 * assume without a cluster, derived from the k8s.io/client-go it is built with (v0.36.x: Kubernetes 1.36).
 */
async function helmLdflags(): Promise<string> {
  const clientGo = (
    await capture('go', ['list', '-m', '-f', '{{.Version}}', 'k8s.io/client-go'], { cwd: HELM_BUILD_MODULE })
  ).trim();
  const minor = /^v0\.(\d+)\./.exec(clientGo)?.[1];
  if (!minor)
    throw new Error(`tools/helm-build resolves k8s.io/client-go ${clientGo}, not a v0.<minor>.<patch> version`);
  return [
    '-s',
    '-w',
    `-X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}`,
    '-X helm.sh/helm/v3/internal/version.gitTreeState=clean',
    ...['pkg/lint/rules', 'pkg/chartutil'].flatMap((pkg) => [
      `-X helm.sh/helm/v3/${pkg}.k8sVersionMajor=1`,
      `-X helm.sh/helm/v3/${pkg}.k8sVersionMinor=${minor}`,
    ]),
  ].join(' ');
}

const helm: Group = {
  id: 'helm',
  binaries: [bins.helm],
  stampText: `helm=${HELM_VERSION}`,
  tool: 'go',
  build: async (out) => {
    log(`building helm ${HELM_VERSION} (CGO off); a cold build takes 1 to 2 minutes on 2 cores`);
    await goBuild('go build helm', HELM_BUILD_MODULE, [
      '-ldflags',
      await helmLdflags(),
      '-o',
      out,
      'helm.sh/helm/v3/cmd/helm',
    ]);
    await expectVersion(join(out, 'helm'), ['version', '--template', '{{.Version}}'], `v${HELM_VERSION}`);
  },
};

/** The tag CoreDNS's Makefile builds with (gRPC without its request tracing). */
const coredns: Group = {
  id: 'coredns',
  binaries: [bins.coredns],
  stampText: `coredns=${COREDNS_VERSION}`,
  tool: 'go',
  build: async (out) => {
    log(`building CoreDNS ${COREDNS_VERSION} (CGO off); a cold build takes about 3 minutes on 2 cores`);
    await goBuild('go build coredns', COREDNS_BUILD_MODULE, [
      '-tags',
      'grpcnotrace',
      '-ldflags',
      '-s -w',
      '-o',
      out,
      'github.com/coredns/coredns',
    ]);
    await expectVersion(join(out, 'coredns'), ['-version'], `CoreDNS-${COREDNS_VERSION}`);
  },
};

/** Compiled with the flags of build/pause/Makefile: static, since it runs alone in the pod sandbox. */
const pause: Group = {
  id: 'pause',
  binaries: [bins.pause],
  stampText: `pause=${PAUSE_VERSION}`,
  tool: 'gcc',
  build: async (out) => {
    const download = JSON.parse(
      await capture('go', ['mod', 'download', '-json', `k8s.io/kubernetes@v${KUBERNETES_VERSION}`], {
        cwd: KUBE_BUILD_MODULE,
      }),
    ) as { Dir: string };
    const source = join(download.Dir, 'build', 'pause', 'linux', 'pause.c');
    log(`compiling pause ${PAUSE_VERSION} from k8s.io/kubernetes v${KUBERNETES_VERSION} (build/pause/linux/pause.c)`);
    const args = [
      '-Os',
      '-Wall',
      '-Werror',
      '-static',
      `-DVERSION=v${PAUSE_VERSION}`,
      '-o',
      join(out, 'pause'),
      source,
    ];
    await runStep('gcc pause.c', 'gcc', args, { cwd: out, env: process.env, logFile: kube.buildLog, label: 'cluster' });
    await expectVersion(join(out, 'pause'), ['-v'], `pause.c v${PAUSE_VERSION}`);
  },
};

const GROUPS = [node, helm, coredns, pause];

async function hasGcc(): Promise<boolean> {
  try {
    await capture('gcc', ['--version'], { timeoutMs: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** Fails before any build starts when a tool the stale groups need is missing, saying what to install. */
async function checkTools(stale: Group[]): Promise<void> {
  const problems: string[] = [];
  const needing = (tool: Group['tool']) =>
    stale.filter((g) => g.tool === tool).flatMap((g) => g.binaries.map((b) => basename(b)));
  if (needing('go').length > 0 && !(await goToolchain()))
    problems.push(
      `building ${needing('go').join(', ')} needs a Go toolchain (1.21 or newer): install Go (https://go.dev/dl/, or your OS package: \`apt-get install golang-go\`); it fetches the Go version a build asks for itself.`,
    );
  if (needing('gcc').length > 0 && !(await hasGcc()))
    problems.push(
      `building ${needing('gcc').join(', ')} needs a C compiler with the static C library: install gcc (\`apt-get install gcc libc6-dev\`).`,
    );
  if (problems.length > 0)
    throw new Error(
      `cannot build the binaries of the single-node cluster:\n  ${problems.join('\n  ')}\nThen rerun \`npx tsx tools/cluster/build.ts\`.`,
    );
}

/** Builds a group into a private folder, then moves the checked binaries into place and stamps them. */
async function buildGroup(group: Group): Promise<void> {
  const out = join(kube.bin, `.building-${process.pid}-${group.id}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  try {
    await group.build(out);
    for (const b of group.binaries) renameSync(join(out, basename(b)), b);
    writeFileSync(stampOf(group), group.stampText);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Makes every binary of the single-node cluster available (see the header): the control plane of the
 * manifest tests first, then the rest, each group built only when missing or stamped at another version.
 */
export async function ensureClusterBinaries(): Promise<void> {
  const started = Date.now();
  await checkTools(GROUPS.filter((g) => !upToDate(g)));
  await ensureKubeControlPlane();
  mkdirSync(kube.bin, { recursive: true });
  await withLock(kube.lock, async () => {
    for (const group of GROUPS) if (!upToDate(group)) await buildGroup(group);
  });
  await ensureDaprControlPlane();
  log(
    `kubelet, kube-controller-manager, kube-scheduler, kube-proxy ${KUBERNETES_VERSION}, helm ${HELM_VERSION}, CoreDNS ${COREDNS_VERSION}, pause ${PAUSE_VERSION} in ${kube.bin}, the Dapr control plane in .dapr/bin: ready (${elapsed(started)})`,
  );
}

if (require.main === module) {
  ensureClusterBinaries().catch((err: unknown) => {
    console.error(`[cluster] ${(err as Error).message}`);
    process.exit(1);
  });
}
