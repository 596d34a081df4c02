/**
 * A real Kubernetes control plane for tests, as plain processes on loopback: etcd and kube-apiserver
 * (built by `npm run setup:k8s`) with the Dapr CRDs installed, and optionally the Dapr control plane
 * (sentry, the sidecar injector as a mutating webhook, the operator as the Subscription conversion
 * webhook; ./dapr-control-plane.ts). No Docker, no kubelet, no controller-manager, no scheduler: objects
 * are validated, admitted (webhooks included) and stored, but no Pod ever runs and no controller acts
 * (a Deployment makes no ReplicaSet, a namespace gets no `default` ServiceAccount).
 *
 *   const cp = await ControlPlane.start({ dapr: false });
 *   const { code, stdout, stderr } = await cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: yaml });
 *   await cp.stop();
 *
 * Everything lives in a new temporary folder (removed by stop() unless KEEP_STACK_LOGS=1): a throwaway
 * CA, the admin kubeconfig, etcd's data, the logs. Every process dies with the Node process that
 * started it, even when that one is killed.
 *
 * `dapr: false` runs etcd and kube-apiserver on free ports of 127.0.0.1. `dapr: true` runs everything in
 * a private network namespace (./sandbox.ts: some Dapr listeners bind every interface), created without
 * root through an unprivileged user namespace; clients reach it through cp.kubectl() and cp.run() only.
 * Linux only (user, network and mount namespaces; util-linux and iproute2).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { capture } from '../dapr/progress';
import { daprHome, GO_BUILD_MODULE, DAPR_RUNTIME_VERSION } from '../dapr/versions';
import { freePorts } from '../stack/ports';
import { ManagedProcess } from '../stack/process';
import { startDaprControlPlane } from './dapr-control-plane';
import { makePki, Pki } from './pki';
import { Command, HostSandbox, NamespaceSandbox, PrivateFiles, Sandbox } from './sandbox';
import { kubeHome } from './versions';

export interface ControlPlaneOptions {
  /** Also run the Dapr control plane: sentry, the sidecar injector and the operator. Default false. */
  dapr?: boolean;
  /** Where each process writes its log (`<name>.log`); default: `logs/` in the temporary folder. */
  logDir?: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin (e.g. manifests for `-f -`). */
  input?: string;
  timeoutMs?: number;
}

/** The loopback ports of one control plane. */
export interface Ports {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
}

/**
 * Inside a private network namespace nothing else listens: fixed ports. The Dapr processes' ports are
 * in ./manifests/control-plane-pods.yaml.
 */
const NAMESPACE_PORTS: Ports = { etcd: 2379, etcdPeer: 2380, apiserver: 6443 };

const hostPorts = async (): Promise<Ports> => {
  const [etcd, etcdPeer, apiserver] = (await freePorts(3)) as [number, number, number];
  return { etcd, etcdPeer, apiserver };
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tailOf(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The binaries start() runs, and what provides each. */
function requireBinaries(dapr: boolean): void {
  const k8s = kubeHome();
  const dp = daprHome();
  const needed = [k8s.etcd, k8s.kubeApiserver, k8s.kubectl, ...(dapr ? [dp.sentry, dp.injector, dp.operator] : [])];
  const missing = needed.filter((f) => !existsSync(f));
  if (missing.length)
    throw new Error(`the test control plane needs ${missing.join(', ')}: run \`npm run setup:k8s\` (npm test runs it)`);
}

let crdDir: string | undefined;

/** The Dapr CRDs as the Helm chart installs them: charts/dapr/crds of the pinned github.com/dapr/dapr module. */
export async function daprCrdDir(): Promise<string> {
  if (!crdDir) {
    const out = await capture('go', ['mod', 'download', '-json', `github.com/dapr/dapr@v${DAPR_RUNTIME_VERSION}`], {
      cwd: GO_BUILD_MODULE,
      timeoutMs: 300_000,
    });
    crdDir = join((JSON.parse(out) as { Dir: string }).Dir, 'charts', 'dapr', 'crds');
  }
  return crdDir;
}

export class ControlPlane {
  /** The admin kubeconfig (client certificate in system:masters). */
  readonly kubeconfig: string;
  /** https://127.0.0.1:<port>: only reachable through kubectl()/run() when `dapr` is on (see Sandbox). */
  readonly server: string;
  /** Every process started for this control plane, oldest first. */
  readonly processes: ManagedProcess[] = [];
  private stopped = false;

  private constructor(
    /** The temporary folder that holds everything of this control plane. */
    readonly dir: string,
    readonly ports: Ports,
    readonly pki: Pki,
    private readonly sandbox: Sandbox,
    /** Where each process writes its log, `<name>.log` (see logOf()). */
    readonly logDir: string,
  ) {
    this.kubeconfig = join(dir, 'admin.kubeconfig');
    this.server = `https://127.0.0.1:${ports.apiserver}`;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const dapr = options.dapr ?? false;
    requireBinaries(dapr);
    const dir = mkdtempSync(join(tmpdir(), 'kube-'));
    const logDir = options.logDir ?? join(dir, 'logs');
    mkdirSync(logDir, { recursive: true });
    let sandbox: Sandbox = new HostSandbox();
    let cp: ControlPlane | undefined;
    try {
      if (dapr) sandbox = await NamespaceSandbox.create(join(logDir, 'netns.log'), cleanEnv());
      const pkiDir = join(dir, 'pki');
      mkdirSync(pkiDir);
      const [ports, pki] = await Promise.all([dapr ? NAMESPACE_PORTS : hostPorts(), makePki(pkiDir)]);
      cp = new ControlPlane(dir, ports, pki, sandbox, logDir);
      cp.writeKubeconfig(cp.kubeconfig, { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey }, 'admin');
      await cp.startEtcd();
      await cp.startApiserver();
      await cp.installDaprCrds();
      if (dapr) await startDaprControlPlane(cp);
      return cp;
    } catch (err) {
      if (cp) await cp.stop();
      else {
        await sandbox.stop();
        if (process.env.KEEP_STACK_LOGS !== '1') rmSync(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** kubectl 1.34 (.k8s/bin) as admin: `{ code, stdout, stderr }`, whatever the exit code. */
  kubectl(args: string[], options: RunOptions = {}): Promise<KubectlResult> {
    return this.run({ command: kubeHome().kubectl, args }, options);
  }

  /** Like kubectl(), throwing with its stderr when it fails; resolves with its stdout. */
  async kubectlOk(args: string[], options: RunOptions = {}): Promise<string> {
    const r = await this.kubectl(args, options);
    if (r.code !== 0)
      throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  /** Any client command, run where the API server is reachable, with KUBECONFIG set to the admin kubeconfig. */
  run(cmd: Command, options: RunOptions = {}): Promise<KubectlResult> {
    const wrapped = this.sandbox.client(cmd);
    return new Promise((resolve, reject) => {
      const child = spawn(wrapped.command, wrapped.args, {
        env: { ...cleanEnv(), KUBECONFIG: this.kubeconfig },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (e) => (clearTimeout(timer), reject(e)));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  }

  /**
   * Starts a long-running process next to the control plane (in its sandbox), stopped by stop(), with
   * `env` as its whole environment (default: this process's). With `isolated`, it gets its own view of
   * the file system and runs as that non-root uid (see Sandbox).
   */
  launch(
    name: string,
    cmd: Command,
    options: { env?: NodeJS.ProcessEnv; isolated?: { files: PrivateFiles; uid: number } } = {},
  ): ManagedProcess {
    const wrapped = options.isolated
      ? this.sandbox.isolated(cmd, options.isolated.files, options.isolated.uid)
      : this.sandbox.daemon(cmd);
    const p = new ManagedProcess({
      name,
      ...wrapped,
      cwd: this.dir,
      env: options.env ?? cleanEnv(),
      logFile: this.logOf(name),
    });
    p.start();
    this.processes.push(p);
    return p;
  }

  logOf(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  /**
   * Polls `probe` until it returns true; fails early with the log of any process of this control plane
   * that exited meanwhile, or with the logs of `suspects` after `timeoutMs`.
   */
  async waitFor(what: string, probe: () => Promise<boolean>, suspects: string[], timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let lastError = '';
    while (Date.now() < until) {
      const dead = this.processes.find((p) => !p.running);
      if (dead)
        throw new Error(`${dead.options.name} exited while waiting for ${what}:\n${tailOf(dead.options.logFile)}`);
      try {
        if (await probe()) return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(200);
    }
    const logs = suspects.map((s) => `--- ${s}\n${tailOf(this.logOf(s))}`).join('\n');
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}\n${logs}`,
    );
  }

  /** A kubeconfig for this API server with the given credentials (a client certificate or a token). */
  private writeKubeconfig(file: string, user: Record<string, string>, userName: string): void {
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'loopback', cluster: { server: this.server, 'certificate-authority': this.pki.caCert } }],
      users: [{ name: userName, user }],
      contexts: [{ name: 'loopback', context: { cluster: 'loopback', user: userName } }],
      'current-context': 'loopback',
    };
    writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });
  }

  /** Stops every process, newest first (SIGTERM, then SIGKILL after a grace period), and removes the folder. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of [...this.processes].reverse()) await p.stop(5_000);
    await this.sandbox.stop();
    if (process.env.KEEP_STACK_LOGS === '1')
      console.log(`[kube] KEEP_STACK_LOGS=1: control plane files kept in ${this.dir} (logs: ${this.logDir})`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  private async startEtcd(): Promise<void> {
    const url = (port: number) => `http://127.0.0.1:${port}`;
    this.launch('etcd', {
      command: kubeHome().etcd,
      args: [
        '--name=loopback',
        `--data-dir=${join(this.dir, 'etcd')}`,
        `--listen-client-urls=${url(this.ports.etcd)}`,
        `--advertise-client-urls=${url(this.ports.etcd)}`,
        `--listen-peer-urls=${url(this.ports.etcdPeer)}`,
        `--initial-advertise-peer-urls=${url(this.ports.etcdPeer)}`,
        `--initial-cluster=loopback=${url(this.ports.etcdPeer)}`,
        // Throwaway data: no fsync, which is most of etcd's latency on a busy disk.
        '--unsafe-no-fsync',
      ],
    });
  }

  private async startApiserver(): Promise<void> {
    const pki = this.pki;
    this.launch('kube-apiserver', {
      command: kubeHome().kubeApiserver,
      args: [
        `--etcd-servers=http://127.0.0.1:${this.ports.etcd}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${this.ports.apiserver}`,
        `--tls-cert-file=${pki.apiserverCert}`,
        `--tls-private-key-file=${pki.apiserverKey}`,
        `--client-ca-file=${pki.caCert}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        // No Endpoints for the `kubernetes` Service: nothing in here would use them.
        '--endpoint-reconciler-type=none',
        '--profiling=false',
      ],
    });
    await this.waitFor(
      'kube-apiserver /readyz',
      async () => (await this.kubectl(['get', '--raw', '/readyz'], { timeoutMs: 10_000 })).stdout === 'ok',
      ['etcd', 'kube-apiserver'],
      90_000,
    );
  }

  private async installDaprCrds(): Promise<void> {
    const dir = await daprCrdDir();
    await this.kubectlOk(['apply', '--server-side', '-f', dir]);
    await this.kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  }
}

/** The environment of the control plane's processes: this one's, without a KUBECONFIG that would point elsewhere. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.KUBECONFIG;
  return env;
}
