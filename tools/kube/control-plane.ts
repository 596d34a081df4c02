/**
 * A real Kubernetes API server for validation, as plain processes on loopback: etcd and kube-apiserver
 * (built by `npm run setup:k8s`) with the Dapr CRDs installed. No controller, no kubelet, no webhook:
 * objects are validated and stored, nothing runs (that is tools/cluster, a whole node). What
 * `npm run validate` and the manifest tests use for server-side strict validation.
 *
 *   const cp = await ControlPlane.start();
 *   const { code, stdout, stderr } = await cp.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: yaml });
 *   await cp.stop();
 *
 * Everything lives in a new temporary folder (removed by stop() unless KEEP_STACK_LOGS=1): a throwaway
 * CA, the admin kubeconfig, etcd's data, the logs. Every process dies with the Node process that
 * started it, even when that one is killed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { capture } from '../dapr/progress';
import { GO_BUILD_MODULE, DAPR_RUNTIME_VERSION } from '../dapr/versions';
import { freePorts } from '../stack/ports';
import { ManagedProcess, tailOf } from '../stack/process';
import { makePki, Pki } from './pki';
import { kubeHome } from './versions';

export interface ControlPlaneOptions {
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

/** What the tests need of a Kubernetes API server: this one, or a whole cluster (tools/cluster). */
export interface KubeClient {
  /** kubectl as admin: `{ code, stdout, stderr }`, whatever the exit code. */
  kubectl(args: string[], options?: RunOptions): Promise<KubectlResult>;
  /** Like kubectl(), throwing with its stderr when it fails; resolves with its stdout. */
  kubectlOk(args: string[], options?: RunOptions): Promise<string>;
}

/** The loopback ports of one control plane. */
export interface Ports {
  etcd: number;
  etcdPeer: number;
  apiserver: number;
}

/** Runs a command to completion and collects its output, whatever its exit code (killed after timeoutMs, default 2 min). */
export function collect(
  command: string,
  args: string[],
  options: RunOptions & { env?: NodeJS.ProcessEnv } = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    // A command that exits without reading its input closes the pipe: nothing to report.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The API server's serving certificate, the CA it trusts for clients, and its ServiceAccount token keys. */
export function apiserverCredentialArgs(pki: Pki): string[] {
  return [
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `setpriv --pdeathsig KILL`: the kernel kills the process when this Node process dies, however it dies. */
function diesWithParent(command: string, args: string[]): { command: string; args: string[] } {
  if (process.platform !== 'linux') return { command, args };
  return { command: 'setpriv', args: ['--pdeathsig', 'KILL', '--', command, ...args] };
}

function requireBinaries(): void {
  const k8s = kubeHome();
  const missing = [k8s.etcd, k8s.kubeApiserver, k8s.kubectl].filter((f) => !existsSync(f));
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

export class ControlPlane implements KubeClient {
  /** The admin kubeconfig (client certificate in system:masters). */
  readonly kubeconfig: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Every process started for this control plane, oldest first. */
  readonly processes: ManagedProcess[] = [];
  private stopped = false;

  private constructor(
    /** The temporary folder that holds everything of this control plane. */
    readonly dir: string,
    readonly ports: Ports,
    readonly pki: Pki,
    /** Where each process writes its log, `<name>.log` (see logOf()). */
    readonly logDir: string,
  ) {
    this.kubeconfig = join(dir, 'admin.kubeconfig');
    this.server = `https://127.0.0.1:${ports.apiserver}`;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    requireBinaries();
    const dir = mkdtempSync(join(tmpdir(), 'kube-'));
    const logDir = options.logDir ?? join(dir, 'logs');
    mkdirSync(logDir, { recursive: true });
    let cp: ControlPlane | undefined;
    try {
      const pkiDir = join(dir, 'pki');
      mkdirSync(pkiDir);
      const [[etcd, etcdPeer, apiserver], pki] = await Promise.all([freePorts(3), makePki(pkiDir)]);
      cp = new ControlPlane(dir, { etcd, etcdPeer, apiserver }, pki, logDir);
      cp.writeKubeconfig();
      cp.startEtcd();
      await cp.startApiserver();
      await cp.installDaprCrds();
      return cp;
    } catch (err) {
      if (cp) await cp.stop();
      else if (process.env.KEEP_STACK_LOGS !== '1') rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  kubectl(args: string[], options: RunOptions = {}): Promise<KubectlResult> {
    return collect(kubeHome().kubectl, args, { ...options, env: { ...process.env, KUBECONFIG: this.kubeconfig } });
  }

  async kubectlOk(args: string[], options: RunOptions = {}): Promise<string> {
    const r = await this.kubectl(args, options);
    if (r.code !== 0)
      throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  /** Starts a process of the control plane, stopped by stop(). */
  private launch(name: string, command: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess({
      name,
      ...diesWithParent(command, args),
      cwd: this.dir,
      env: process.env,
      logFile: this.logOf(name),
    });
    p.start();
    this.processes.push(p);
    return p;
  }

  logOf(name: string): string {
    return join(this.logDir, `${name}.log`);
  }

  /** Polls `probe` until it returns true; fails early with the log of a process that exited meanwhile. */
  private async waitFor(what: string, probe: () => Promise<boolean>, suspects: string[], timeoutMs: number) {
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

  private writeKubeconfig(): void {
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'loopback', cluster: { server: this.server, 'certificate-authority': this.pki.caCert } }],
      users: [{ name: 'admin', user: { 'client-certificate': this.pki.adminCert, 'client-key': this.pki.adminKey } }],
      contexts: [{ name: 'loopback', context: { cluster: 'loopback', user: 'admin' } }],
      'current-context': 'loopback',
    };
    writeFileSync(this.kubeconfig, stringify(kubeconfig), { mode: 0o600 });
  }

  /** Stops every process, newest first (SIGTERM, then SIGKILL after a grace period), and removes the folder. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of [...this.processes].reverse()) await p.stop(5_000);
    if (process.env.KEEP_STACK_LOGS === '1')
      console.log(`[kube] KEEP_STACK_LOGS=1: control plane files kept in ${this.dir} (logs: ${this.logDir})`);
    else rmSync(this.dir, { recursive: true, force: true });
  }

  private startEtcd(): void {
    const url = (port: number) => `http://127.0.0.1:${port}`;
    this.launch('etcd', kubeHome().etcd, [
      '--name=loopback',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=${url(this.ports.etcd)}`,
      `--advertise-client-urls=${url(this.ports.etcd)}`,
      `--listen-peer-urls=${url(this.ports.etcdPeer)}`,
      `--initial-advertise-peer-urls=${url(this.ports.etcdPeer)}`,
      `--initial-cluster=loopback=${url(this.ports.etcdPeer)}`,
      // Throwaway data: no fsync, which is most of etcd's latency on a busy disk.
      '--unsafe-no-fsync',
    ]);
  }

  private async startApiserver(): Promise<void> {
    const pki = this.pki;
    this.launch('kube-apiserver', kubeHome().kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${this.ports.etcd}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${this.ports.apiserver}`,
      ...apiserverCredentialArgs(pki),
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      // No Endpoints for the `kubernetes` Service: nothing in here would use them.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ]);
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
