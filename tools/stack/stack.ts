import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from '../dapr/progress';
import { daprHome, PROJECT_ROOT } from '../dapr/versions';
import { freePort } from './ports';
import { ManagedProcess } from './process';
import { materializeResources, ResourceSet, ResourceSetOptions } from './resources';
import { AppSpec, readRunTemplate } from './run-template';
import { Broker, SQL_VARIANTS, SqlEngine } from './variants';

export type AppId = 'catalog' | 'audit';

export interface StackOptions {
  broker?: Broker;
  sql?: SqlEngine;
  /** `template`: the ports in dapr.yaml (npm start); `free`: any free ports (tests, bench). */
  ports?: 'template' | 'free';
  /** Logs, resolved resources and the name-resolution file; a new temporary folder by default. */
  runDir?: string;
  databases: Record<AppId, string>;
  /** Defaults to the template's topic; tests pass one per run. */
  topic?: string;
  /** Which apps to run; both by default. */
  apps?: AppId[];
  /** Instances per app (each with its own sidecar), 1 by default; replicas start at the same time. */
  replicas?: Partial<Record<AppId, number>>;
  appEnv?: Partial<Record<AppId, Record<string, string>>>;
  sidecarEnv?: Partial<Record<AppId, Record<string, string>>>;
  /**
   * Protect the sidecars' APIs with this token (DAPR_API_TOKEN for daprd and the apps); the stack's own
   * calls (`invoke`) send it.
   */
  daprApiToken?: string;
  /** Extra daprd flags per app (e.g. mTLS). */
  sidecarArgs?: Partial<Record<AppId, string[]>>;
  /** Secrets for the local file store, over the example's (the binding's defaults to the audit database). */
  secrets?: Record<string, string>;
  metadata?: ResourceSetOptions['metadata'];
  editConfiguration?: ResourceSetOptions['editConfiguration'];
  /** Print the processes' output to the console too. */
  echo?: boolean;
  /** Run each app's migrate command before starting it (default true). */
  migrate?: boolean;
  template?: string;
}


function tail(file: string, lines = 25): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n') : '(no output)';
}

async function waitFor(what: string, probe: () => Promise<boolean>, watch: ManagedProcess[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const dead = watch.find((p) => !p.running);
    if (dead) throw new Error(`${dead.options.name} exited while waiting for ${what}:\n${tail(dead.options.logFile)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${watch.map((p) => `--- ${p.options.name}\n${tail(p.options.logFile)}`).join('\n')}`);
}

const httpStatus = (url: string) => fetch(url, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status);

/** One app and its sidecar, each a process that can be stopped, killed and started again. */
export class AppNode {
  readonly app: ManagedProcess;
  readonly sidecar: ManagedProcess;

  constructor(
    readonly spec: AppSpec,
    readonly appEnv: NodeJS.ProcessEnv,
    sidecarArgs: string[],
    sidecarEnv: NodeJS.ProcessEnv,
    logDir: string,
    echo: boolean,
    /** `catalog`, or `catalog-2` for a second replica: names its processes and log files. */
    readonly name = spec.appID,
  ) {
    const [command, ...args] = spec.command;
    this.app = new ManagedProcess({ name, command: command!, args, cwd: spec.appDir, env: appEnv, logFile: join(logDir, `${name}.log`), echo });
    this.sidecar = new ManagedProcess({
      name: `${name}-daprd`,
      command: daprHome(spec.runtimePath).daprd,
      args: sidecarArgs,
      cwd: PROJECT_ROOT,
      env: sidecarEnv,
      logFile: join(logDir, `${name}-daprd.log`),
      echo,
    });
  }

  get daprUrl(): string {
    return `http://127.0.0.1:${this.spec.daprHTTPPort}`;
  }

  get appUrl(): string {
    return `http://127.0.0.1:${this.spec.appPort}`;
  }

  async startApp(timeoutMs = 30_000): Promise<void> {
    this.app.start();
    await waitFor(`${this.name} /healthz`, async () => (await httpStatus(`${this.appUrl}/healthz`)) === 200, [this.app], timeoutMs);
  }

  /** Starts daprd and waits until it is initialised, its components loaded and its app reachable. */
  async startSidecar(timeoutMs = 60_000): Promise<void> {
    this.sidecar.start();
    await waitFor(`${this.name} sidecar /v1.0/healthz`, async () => (await httpStatus(`${this.daprUrl}/v1.0/healthz`)) === 204, [this.sidecar], timeoutMs);
  }

  async start(): Promise<void> {
    await this.startApp();
    await this.startSidecar();
  }

  async stop(): Promise<void> {
    await Promise.all([this.sidecar.stop(), this.app.stop()]);
  }
}

export class Stack {
  constructor(
    /** Each app's instances; the first is the one `node()` and `invoke()` use. */
    readonly nodes: Partial<Record<AppId, AppNode[]>>,
    readonly runDir: string,
    readonly topic: string,
    /** A temporary run folder is removed on stop (KEEP_STACK_LOGS=1 keeps it for a post-mortem). */
    private readonly ownsRunDir = false,
    private readonly daprApiToken?: string,
  ) {}

  node(id: AppId, replica = 0): AppNode {
    const n = this.nodes[id]?.[replica];
    if (!n) throw new Error(`${id} #${replica} is not part of this stack`);
    return n;
  }

  all(): AppNode[] {
    return Object.values(this.nodes).flat();
  }

  /** A call to `appId`'s API through a sidecar's service invocation endpoint (by default its own). */
  invoke(appId: AppId, method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; via?: AppId; rawBody?: string } = {}): Promise<Response> {
    const via = this.node(init.via ?? appId);
    const headers: Record<string, string> = { ...(this.daprApiToken ? { 'dapr-api-token': this.daprApiToken } : {}), ...init.headers };
    let body: string | undefined = init.rawBody;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    return fetch(`${via.daprUrl}/v1.0/invoke/${appId}/method${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
  }

  /** Stops every process (producers first, so nothing is published while the consumer stops). */
  async stop(): Promise<void> {
    for (const id of ['catalog', 'audit'] as AppId[]) await Promise.all((this.nodes[id] ?? []).map((n) => n.stop()));
    if (this.ownsRunDir && process.env.KEEP_STACK_LOGS !== '1') rmSync(this.runDir, { recursive: true, force: true });
  }
}

async function runMigrations(spec: AppSpec, env: NodeJS.ProcessEnv): Promise<void> {
  await capture('node', ['dist/migrate.js'], { cwd: spec.appDir, env, timeoutMs: 120_000 }).catch((err: Error) => {
    throw new Error(`migrations of ${spec.appID} failed: ${err.message}`);
  });
}

function createNode(spec: AppSpec, name: string, o: StackOptions, resources: ResourceSet, runDir: string, topic: string): AppNode {
  const id = spec.appID as AppId;
  const appEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...spec.env,
    ...SQL_VARIANTS[o.sql ?? 'postgres'].appEnv,
    DB_NAME: o.databases[id],
    PORT: String(spec.appPort),
    APP_ID: id,
    APP_PORT: String(spec.appPort),
    DAPR_HTTP_PORT: String(spec.daprHTTPPort),
    DAPR_GRPC_PORT: String(spec.daprGRPCPort),
    ...(id === 'catalog' ? { PUBSUB_TOPIC: topic } : {}),
    ...(o.daprApiToken ? { DAPR_API_TOKEN: o.daprApiToken } : {}),
    ...o.appEnv?.[id],
  };
  const args = [
    '--app-id', id,
    '--app-port', String(spec.appPort),
    '--app-protocol', 'http',
    '--app-channel-address', '127.0.0.1',
    '--dapr-listen-addresses', '127.0.0.1',
    '--dapr-http-port', String(spec.daprHTTPPort),
    '--dapr-grpc-port', String(spec.daprGRPCPort),
    '--dapr-internal-grpc-port', String(spec.daprInternalGRPCPort),
    '--metrics-port', String(spec.metricsPort),
    '--resources-path', resources.resourcesDir,
    '--config', resources.configFile,
    '--log-level', spec.logLevel,
    ...(spec.enableAppHealthCheck ? ['--enable-app-health-check', '--app-health-check-path', spec.appHealthCheckPath] : []),
    ...(spec.appHealthProbeInterval ? ['--app-health-probe-interval', String(spec.appHealthProbeInterval)] : []),
    ...(o.sidecarArgs?.[id] ?? []),
  ];
  const sidecarEnv = { ...process.env, ...(o.daprApiToken ? { DAPR_API_TOKEN: o.daprApiToken } : {}), ...o.sidecarEnv?.[id] };
  return new AppNode(spec, appEnv, args, sidecarEnv, runDir, !!o.echo, name);
}

/**
 * Starts the system the way dapr.yaml describes it (daprd from the project's .dapr/bin), with the chosen
 * broker and SQL engine. The consumer (audit) starts first, so its subscription exists before the
 * catalog publishes. On any failure everything started so far is stopped.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const broker = o.broker ?? 'redis';
  const sql = o.sql ?? 'postgres';
  const runDir = o.runDir ?? mkdtempSync(join(tmpdir(), 'pdm-stack-'));
  const ownsRunDir = !o.runDir;
  mkdirSync(runDir, { recursive: true });
  const sqlVariant = SQL_VARIANTS[sql];
  const topic = o.topic ?? 'products';
  const resources = materializeResources({
    broker,
    sql,
    outDir: runDir,
    topic,
    nameResolutionFile: join(runDir, 'nameresolution.db'),
    secrets: {
      ...JSON.parse(readFileSync(join(PROJECT_ROOT, 'components', 'secrets', 'secrets.example.json'), 'utf8')),
      [sqlVariant.bindingSecret]: sqlVariant.bindingConnection(o.databases.audit),
      ...o.secrets,
    },
    metadata: o.metadata,
    editConfiguration: o.editConfiguration,
  });

  const wanted = o.apps ?? ['audit', 'catalog'];
  const specs = readRunTemplate(o.template ?? join(PROJECT_ROOT, 'dapr.yaml'));
  const nodes: Partial<Record<AppId, AppNode[]>> = {};
  const stack = new Stack(nodes, runDir, topic, ownsRunDir, o.daprApiToken);
  try {
    for (const id of (['audit', 'catalog'] as AppId[]).filter((a) => wanted.includes(a))) {
      const template = specs.find((s) => s.appID === id);
      if (!template) throw new Error(`dapr.yaml has no app ${id}`);
      const count = o.replicas?.[id] ?? 1;
      nodes[id] = [];
      for (let i = 0; i < count; i++) {
        const spec: AppSpec = { ...template };
        if (o.ports === 'free' || i > 0) {
          const ports = await Promise.all(Array.from({ length: 5 }, freePort));
          [spec.appPort, spec.daprHTTPPort, spec.daprGRPCPort, spec.daprInternalGRPCPort, spec.metricsPort] = ports as [number, number, number, number, number];
        }
        nodes[id].push(createNode(spec, i === 0 ? id : `${id}-${i + 1}`, o, resources, runDir, topic));
      }
      if (o.migrate !== false) await runMigrations(nodes[id][0]!.spec, nodes[id][0]!.appEnv);
      await Promise.all(nodes[id].map((n) => n.start()));
    }
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
