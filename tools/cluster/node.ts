/**
 * A single-node Kubernetes 1.34 made of the upstream parts, inside network, mount and PID namespaces of
 * its own (./supervisor.ts makes them): containerd with runc and the CNI bridge plugin, etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, the kubelet and kube-proxy as processes of the
 * node; CoreDNS and the Dapr control plane as pods. Pod and Service addresses exist only in there;
 * clients on this machine reach the API server through a loopback bridge (`.cluster/kubeconfig`).
 *
 *   const node = await ClusterNode.up({ owner: process.pid, images });   // ends when this process ends
 *   await node.kubectl(['get', 'pods', '-A']);
 *   await node.down();
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { elapsed, say } from '../dapr/progress';
import { PROJECT_ROOT } from '../dapr/versions';
import { apiserverCredentialArgs, collect, KubeClient, KubectlResult, RunOptions } from '../kube/control-plane';
import { makePki, Pki, pkiFiles } from '../kube/pki';
import { kubeHome } from '../kube/versions';
import { CONTAINERD_SOCKET, kubeconfigFor, NodeConfigFiles, nodeConfigFiles, writeNodeConfig } from './config';
import { clusterRun, NODE } from './layout';
import type { SupervisorState } from './supervisor';
import { isAlive, tailOf } from '../stack/process';

const run = clusterRun();
const log = (message: string) => say(message, 'cluster');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bin = (name: string) => join(kubeHome().bin, name);

export interface UpOptions {
  /** The process whose end ends the cluster (a test run); none: it runs until `down`. */
  owner?: number;
  /** OCI archives to import into containerd's `k8s.io` namespace (./images.ts makes them). */
  images: string[];
}

function readState(): SupervisorState | undefined {
  if (!existsSync(run.state)) return undefined;
  const state = JSON.parse(readFileSync(run.state, 'utf8')) as SupervisorState;
  return isAlive(state.supervisor) ? state : undefined;
}

/** Starts ./supervisor.ts detached (it must outlive `npm run cluster -- up`) and waits for its state file. */
async function startSupervisor(owner: number): Promise<SupervisorState> {
  const logFile = join(run.logs, 'supervisor.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'supervisor.ts'), String(owner)], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  for (let i = 0; i < 600; i++) {
    const state = readState();
    if (state) return state;
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`the node's namespaces did not come up:\n${tailOf(logFile)}`);
}

export class ClusterNode implements KubeClient {
  private constructor(
    readonly state: SupervisorState,
    private readonly pki: Pki,
    private readonly files: NodeConfigFiles,
  ) {}

  /** The cluster `npm run cluster -- up` left running, if any. */
  static running(): ClusterNode | undefined {
    const state = readState();
    if (!state) return undefined;
    return new ClusterNode(state, pkiFiles(run.pki), nodeConfigFiles(run));
  }

  static async up(options: UpOptions): Promise<ClusterNode> {
    if (readState())
      throw new Error('a cluster is already running here: `npm run cluster -- down` first (or use it as it is)');
    const started = Date.now();
    rmSync(run.dir, { recursive: true, force: true });
    for (const dir of [run.pki, run.config, run.logs, run.sockets]) mkdirSync(dir, { recursive: true });
    const pki = await makePki(run.pki, [NODE.ip, NODE.apiServiceIp]);
    const state = await startSupervisor(options.owner ?? 0);
    const node = new ClusterNode(state, pki, writeNodeConfig(run, pki, state.cgroup));
    try {
      await node.boot(options.images);
    } catch (err) {
      (err as Error).message += `\n(logs: ${run.logs})`;
      if (process.env.KEEP_CLUSTER !== '1') await node.down();
      throw err;
    }
    log(`node ${NODE.name} Ready (${elapsed(started)})`);
    return node;
  }

  private async boot(images: string[]): Promise<void> {
    await this.step('containerd', () => this.startContainerd());
    await Promise.all([
      this.step(`${images.length} images imported`, () => this.importImages(images)),
      this.step('etcd and kube-apiserver', () => this.startApiServer()),
    ]);
    await this.step('controller-manager, scheduler, kubelet, kube-proxy: node Ready', () => this.startNodeAgents());
  }

  private async step(what: string, fn: () => Promise<void>): Promise<void> {
    const started = Date.now();
    await fn();
    log(`${what} (${elapsed(started)})`);
  }

  /** Ends the node: the supervisor kills PID 1 of its namespaces and removes the pods' cgroup. */
  async down(): Promise<void> {
    try {
      process.kill(this.state.supervisor, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 1200 && isAlive(this.state.supervisor); i++) await sleep(100);
    if (isAlive(this.state.supervisor)) throw new Error(`the supervisor (pid ${this.state.supervisor}) did not end`);
  }

  /** A command inside the node's network and mount namespaces, run to completion. */
  inside(command: string, args: string[], options: RunOptions = {}): Promise<KubectlResult> {
    const ns = ['--target', String(this.state.nodePid), '--net', '--mount', `--wd=${PROJECT_ROOT}`, '--'];
    return collect('nsenter', [...ns, command, ...args], options);
  }

  /** kubectl 1.34 as the cluster's admin, from this machine through the loopback bridge. */
  kubectl(args: string[], options: RunOptions = {}): Promise<KubectlResult> {
    return collect(kubeHome().kubectl, ['--kubeconfig', run.kubeconfig, ...args], options);
  }

  /** Like kubectl(), throwing with its stderr when it fails; resolves with its stdout. */
  async kubectlOk(args: string[], options: RunOptions = {}): Promise<string> {
    const r = await this.kubectl(args, options);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /**
   * `kubectl port-forward` from this machine's loopback to `port` of `target` (e.g. pod/catalog-x): a
   * free local port, the URL on it, and the way to end it.
   */
  async portForward(namespace: string, target: string, port: number): Promise<{ url: string; stop(): void }> {
    const args = ['--kubeconfig', run.kubeconfig, 'port-forward', '-n', namespace, target, `:${port}`];
    const child = spawn(kubeHome().kubectl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const local = await new Promise<number>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
        if (m) resolve(Number(m[1]));
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`kubectl port-forward ${target} exited (${code}): ${output}`)));
    });
    return { url: `http://127.0.0.1:${local}`, stop: () => child.kill() };
  }

  /**
   * A daemon of the node (tests add their own servers with it): joins the node's namespaces (PID
   * included, so it dies with PID 1), detached from this process, logging to `<logs>/<name>.log`.
   */
  daemon(name: string, command: string, args: string[]): void {
    const out = openSync(join(run.logs, `${name}.log`), 'a');
    const ns = ['--target', String(this.state.nodePid), '--net', '--mount', '--pid', `--wd=${PROJECT_ROOT}`, '--'];
    spawn('nsenter', [...ns, command, ...args], { detached: true, stdio: ['ignore', out, out] }).unref();
  }

  /** Polls `probe` until it holds; on a timeout, fails with the logs of `suspects`. */
  private async waitFor(what: string, probe: () => Promise<boolean>, suspects: string[], timeoutMs = 300_000) {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!isAlive(this.state.supervisor)) throw new Error(`the node ended while waiting for ${what}`);
      if (await probe().catch(() => false)) return;
      await sleep(250);
    }
    const logs = suspects.map((s) => `--- ${s}\n${tailOf(join(run.logs, `${s}.log`))}`).join('\n');
    throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${logs}`);
  }

  private async startContainerd(): Promise<void> {
    this.daemon('containerd', 'containerd', ['--config', this.files.containerd]);
    await this.waitFor(
      'containerd',
      async () => (await this.inside('ctr', ['-a', CONTAINERD_SOCKET, 'version'])).code === 0,
      ['containerd'],
    );
  }

  private async importImages(archives: string[]): Promise<void> {
    for (const archive of archives) {
      const r = await this.inside('ctr', ['-a', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'import', archive]);
      if (r.code !== 0) throw new Error(`importing ${archive} failed: ${r.stderr.trim()}`);
    }
  }

  private async startApiServer(): Promise<void> {
    const pki = this.pki;
    const etcdUrl = (port: number) => `http://127.0.0.1:${port}`;
    this.daemon('etcd', bin('etcd'), [
      '--name=node',
      '--data-dir=/var/lib/etcd',
      `--listen-client-urls=${etcdUrl(NODE.etcdPort)}`,
      `--advertise-client-urls=${etcdUrl(NODE.etcdPort)}`,
      `--listen-peer-urls=${etcdUrl(NODE.etcdPeerPort)}`,
      `--initial-advertise-peer-urls=${etcdUrl(NODE.etcdPeerPort)}`,
      `--initial-cluster=node=${etcdUrl(NODE.etcdPeerPort)}`,
      // Its data lives on a tmpfs and dies with the node: fsync would only cost time.
      '--unsafe-no-fsync',
    ]);
    this.daemon('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=${etcdUrl(NODE.etcdPort)}`,
      `--advertise-address=${NODE.ip}`,
      `--secure-port=${NODE.apiserverPort}`,
      ...apiserverCredentialArgs(pki),
      `--service-cluster-ip-range=${NODE.serviceCidr}`,
      '--authorization-mode=Node,RBAC',
      // exec and port-forward: the kubelet by its address (never a name for the machine's resolver),
      // with a client certificate it trusts.
      '--kubelet-preferred-address-types=InternalIP',
      `--kubelet-client-certificate=${pki.adminCert}`,
      `--kubelet-client-key=${pki.adminKey}`,
      '--profiling=false',
    ]);
    this.daemon('apiserver-bridge', process.execPath, [
      '--import',
      'tsx',
      join(__dirname, 'relay.ts'),
      join(run.sockets, 'apiserver.sock'),
      `127.0.0.1:${NODE.apiserverPort}`,
    ]);
    writeFileSync(run.kubeconfig, stringify(kubeconfigFor(pki, `https://127.0.0.1:${this.state.apiPort}`)), {
      mode: 0o600,
    });
    await this.waitFor(
      'kube-apiserver /readyz',
      async () => (await this.kubectl(['get', '--raw', '/readyz'], { timeoutMs: 10_000 })).stdout === 'ok',
      ['etcd', 'kube-apiserver', 'apiserver-bridge'],
    );
  }

  private async startNodeAgents(): Promise<void> {
    const kubeconfig = `--kubeconfig=${this.files.kubeconfig}`;
    this.daemon('kube-controller-manager', bin('kube-controller-manager'), [
      kubeconfig,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--service-account-private-key-file=${this.pki.serviceAccountKey}`,
      `--root-ca-file=${this.pki.caCert}`,
      '--use-service-account-credentials=true',
      '--controllers=*',
    ]);
    this.daemon('kube-scheduler', bin('kube-scheduler'), [
      kubeconfig,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
    ]);
    this.daemon('kubelet', bin('kubelet'), [
      `--config=${this.files.kubelet}`,
      kubeconfig,
      `--node-ip=${NODE.ip}`,
      `--hostname-override=${NODE.name}`,
    ]);
    this.daemon('kube-proxy', bin('kube-proxy'), [
      kubeconfig,
      '--proxy-mode=iptables',
      `--cluster-cidr=${NODE.clusterCidr}`,
      `--hostname-override=${NODE.name}`,
      // conntrack sysctls that only the machine's own namespace may set: leave them as they are.
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0',
      '--conntrack-tcp-timeout-close-wait=0',
      '--metrics-bind-address=127.0.0.1:10249',
      '--healthz-bind-address=127.0.0.1:10256',
    ]);
    await this.waitFor(
      `node ${NODE.name} Ready`,
      async () =>
        (
          await this.kubectl([
            'get',
            'node',
            NODE.name,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ])
        ).stdout === 'True',
      ['kubelet', 'containerd', 'kube-controller-manager'],
    );
  }
}
