import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { DAPR_RUNTIME_VERSION, PROJECT_ROOT } from '../dapr/versions';
import { appInvocation, CLI_SENTRY_ADDRESS, CliContext, daprdInvocation, Invocation } from './cli-model';
import { localSecrets, secretsFileOf, writeSecretsFile } from './local-state';
import { freePorts } from './ports';
import { ManagedProcess, tailOf } from './process';
import { editResourceFolders, ResourceEdits } from './resources';
import { readRunFile, ResolvedApp, resolveRunFile, RunFile, RunFileApp } from './run-file';
import { Broker, SqlEngine, withVariants } from './variants';

export type AppId = 'catalog' | 'audit';

export interface StackOptions {
  /** The run file; the repository's dapr.yaml by default. */
  runFile?: string;
  broker?: Broker;
  sql?: SqlEngine;
  /**
   * The folder standing in for the repository at run time. Each app runs from a mirror of its folder
   * under it (its files linked in), so the relative paths of the components (../.dapr/secrets.json,
   * ../.dapr/nameresolution.db) resolve to this stack's own files, exactly as they resolve to the
   * repository's under `dapr run -f .`. A new temporary folder by default; `npm start` passes the
   * repository itself, and the apps then run from their own folders.
   */
  root?: string;
  /** `file`: the ports of the run file (npm start); `free`: free ports (tests, benchmark). */
  ports?: 'file' | 'free';
  /** Database name per app (DB_NAME, and the audit binding's secret). */
  databases: Record<AppId, string>;
  /** Defaults to the run file's topic; tests pass one per run. */
  topic?: string;
  /** Which apps to run (in run-file order); all by default. */
  apps?: AppId[];
  /** Instances per app, 1 by default: each extra one is another entry of the app, on free ports. */
  replicas?: Partial<Record<AppId, number>>;
  /** Values of the run file's env per app, over the file's own. */
  appEnv?: Partial<Record<AppId, Record<string, string>>>;
  /** The environment the CLI would run in, over this process's: daprd and the apps inherit it. */
  env?: Record<string, string>;
  /** Secrets over the stack's local ones (whose binding points at `databases.audit`). */
  secrets?: Record<string, string>;
  /** Component metadata to change in this stack's copy of the resources (a test's throwaway server). */
  metadata?: ResourceEdits['metadata'];
  /** A Configuration of the test's own instead of the run file's (its configFilePath). */
  configFile?: string;
  /** The CLI points mTLS sidecars at sentry on localhost:50001; a test's sentry may listen elsewhere. */
  sentryAddress?: string;
  /** Print the processes' output on the console too. */
  echo?: boolean;
  /** daprd's pprof endpoint (`enableProfiling`, on a free `profilePort`) for these apps: the benchmark's profile. */
  profiling?: AppId[];
}

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  watch: ManagedProcess[],
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const dead = watch.find((p) => !p.running);
    if (dead)
      throw new Error(`${dead.options.name} exited while waiting for ${what}:\n${tailOf(dead.options.logFile)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}:\n${watch.map((p) => `--- ${p.options.name}\n${tailOf(p.options.logFile)}`).join('\n')}`,
  );
}

const httpStatus = (url: string, headers?: Record<string, string>) =>
  fetch(url, { headers, signal: AbortSignal.timeout(1_000) }).then((r) => r.status);

/** One app of the run file and its sidecar, each a process that can be stopped, killed and started again. */
export class AppNode {
  readonly app: ManagedProcess;
  readonly sidecar: ManagedProcess;

  constructor(
    readonly spec: ResolvedApp,
    readonly daprd: Invocation,
    readonly command: Invocation,
    logDir: string,
    echo: boolean,
    /** `catalog`, or `catalog-2` for a second instance: names its processes and log files. */
    readonly name = spec.appID,
    private readonly daprApiToken?: string,
  ) {
    const process = (n: string, i: Invocation) =>
      new ManagedProcess({
        name: n,
        command: i.file,
        args: i.args,
        cwd: i.cwd,
        env: i.env,
        logFile: join(logDir, `${n}.log`),
        echo,
      });
    this.sidecar = process(`${name}-daprd`, daprd);
    this.app = process(name, command);
  }

  get daprUrl(): string {
    return `http://127.0.0.1:${this.spec.daprHTTPPort}`;
  }

  get appUrl(): string {
    return `http://127.0.0.1:${this.spec.appPort}`;
  }

  /** The CLI's order: daprd, then the app at once (daprd waits for the app's port by itself). */
  launch(): void {
    this.sidecar.start();
    this.app.start();
  }

  /**
   * Resolves when the app answers /healthz, daprd /v1.0/healthz (components loaded, app reachable) and,
   * with app health checks on, daprd routes invocation to the app: daprd counts the app unhealthy until a
   * probe succeeds, and a first probe lost to a slow start leaves every call failing with "app is not in
   * a healthy state" until the next one, an appHealthProbeInterval later.
   */
  async ready(timeoutMs = 60_000): Promise<void> {
    const both = [this.sidecar, this.app];
    await waitFor(
      `${this.name} /healthz`,
      async () => (await httpStatus(`${this.appUrl}/healthz`)) === 200,
      both,
      timeoutMs,
    );
    await waitFor(
      `${this.name} sidecar /v1.0/healthz`,
      async () => (await httpStatus(`${this.daprUrl}/v1.0/healthz`)) === 204,
      both,
      timeoutMs,
    );
    if (this.spec.enableAppHealthCheck) {
      // Invoking its own app ID, daprd calls its local app (never another replica).
      const selfCall = `${this.daprUrl}/v1.0/invoke/${this.spec.appID}/method${this.spec.appHealthCheckPath || '/healthz'}`;
      const headers = this.daprApiToken ? { 'dapr-api-token': this.daprApiToken } : undefined;
      await waitFor(
        `${this.name} healthy in its sidecar's app health check`,
        async () => (await httpStatus(selfCall, headers)) === 200,
        both,
        timeoutMs,
      );
    }
  }

  async start(): Promise<void> {
    this.launch();
    await this.ready();
  }

  async startApp(timeoutMs = 60_000): Promise<void> {
    this.app.start();
    await waitFor(
      `${this.name} /healthz`,
      async () => (await httpStatus(`${this.appUrl}/healthz`)) === 200,
      [this.app],
      timeoutMs,
    );
  }

  async startSidecar(timeoutMs = 60_000): Promise<void> {
    this.sidecar.start();
    await waitFor(
      `${this.name} sidecar /v1.0/healthz`,
      async () => (await httpStatus(`${this.daprUrl}/v1.0/healthz`)) === 204,
      [this.sidecar],
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([this.sidecar.stop(), this.app.stop()]);
  }
}

export class Stack {
  constructor(
    /** Each app's instances; the first is the one `node()` and `invoke()` use. */
    readonly nodes: Partial<Record<AppId, AppNode[]>>,
    readonly root: string,
    readonly topic: string,
    /** A temporary root is removed on stop (KEEP_STACK_LOGS=1 keeps it for a post-mortem). */
    private readonly ownsRoot: boolean,
    private readonly daprApiToken?: string,
  ) {}

  get logDir(): string {
    return join(this.root, '.dapr', 'logs');
  }

  /** The log file of a process: `audit`, `audit-daprd`, `catalog-2`, ... */
  logOf(processName: string): string {
    return join(this.logDir, `${processName}.log`);
  }

  node(id: AppId, replica = 0): AppNode {
    const n = this.nodes[id]?.[replica];
    if (!n) throw new Error(`${id} #${replica} is not part of this stack`);
    return n;
  }

  all(): AppNode[] {
    return Object.values(this.nodes).flat();
  }

  /** A call to `appId`'s API through a sidecar's service invocation endpoint (by default its own). */
  invoke(
    appId: AppId,
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; via?: AppId; rawBody?: string } = {},
  ): Promise<Response> {
    const via = this.node(init.via ?? appId);
    const headers: Record<string, string> = {
      ...(this.daprApiToken ? { 'dapr-api-token': this.daprApiToken } : {}),
      ...init.headers,
    };
    let body: string | undefined = init.rawBody;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    return fetch(`${via.daprUrl}/v1.0/invoke/${appId}/method${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(30_000),
    });
  }

  /** Stops every process (producers first, so nothing is published while the consumer stops). */
  async stop(): Promise<void> {
    for (const id of ['catalog', 'audit'] as AppId[]) await Promise.all((this.nodes[id] ?? []).map((n) => n.stop()));
    if (this.ownsRoot && process.env.KEEP_STACK_LOGS !== '1') rmSync(this.root, { recursive: true, force: true });
  }
}

/** The app's folder under `root`, its files linked in: the app runs its own code from there. */
function mirrorAppDir(appDir: string, baseDir: string, root: string): string {
  const mirror = join(root, relative(baseDir, appDir));
  mkdirSync(mirror, { recursive: true });
  for (const entry of readdirSync(appDir)) {
    if (entry === '.dapr' || entry === '.env' || existsSync(join(mirror, entry))) continue;
    symlinkSync(join(appDir, entry), join(mirror, entry));
  }
  return mirror;
}

/** An app's five ports, distinct from every port already handed to this stack (`taken`). */
const appPorts = async (taken: Set<number>) => {
  const [appPort, daprHTTPPort, daprGRPCPort, daprInternalGRPCPort, metricsPort] = await freePorts(5, taken);
  return { appPort, daprHTTPPort, daprGRPCPort, daprInternalGRPCPort, metricsPort };
};

/**
 * The run file as this stack runs it, changed only through its own fields, as a user could: the chosen
 * apps, with their database names, topic and env, replicas as extra entries, ports, app folders.
 */
async function stackRunFile(
  o: StackOptions,
  runFile: RunFile,
  baseDir: string,
  root: string,
): Promise<{ file: RunFile; names: string[] }> {
  const wanted = o.apps ?? ['catalog', 'audit'];
  const apps: RunFileApp[] = [];
  const names: string[] = [];
  // Ports the run file fixes are someone's too: a free port drawn for a replica must not be one of them.
  const taken = new Set<number>(
    runFile.apps
      .flatMap((a) => [a.appPort, a.daprHTTPPort, a.daprGRPCPort, a.daprInternalGRPCPort, a.metricsPort])
      .filter((p): p is number => typeof p === 'number'),
  );
  for (const app of runFile.apps) {
    const id = app.appID as AppId;
    if (!wanted.includes(id)) continue;
    const env = {
      ...app.env,
      DB_NAME: o.databases[id],
      ...(o.topic && app.env?.PUBSUB_TOPIC ? { PUBSUB_TOPIC: o.topic } : {}),
      ...o.appEnv?.[id],
    };
    const appDirPath =
      root === baseDir ? app.appDirPath : mirrorAppDir(resolve(baseDir, app.appDirPath), baseDir, root);
    const count = o.replicas?.[id] ?? 1;
    for (let i = 0; i < count; i++) {
      const ports = o.ports === 'free' || i > 0 ? await appPorts(taken) : {};
      const profiling = o.profiling?.includes(id)
        ? { enableProfiling: true, profilePort: (await freePorts(1, taken))[0] }
        : {};
      apps.push({
        ...app,
        ...ports,
        ...profiling,
        appDirPath,
        env,
        ...(o.configFile ? { configFilePath: o.configFile } : {}),
      });
      names.push(i === 0 ? id : `${id}-${i + 1}`);
    }
  }
  return { file: { ...runFile, apps }, names };
}

async function requireFreePorts(app: ResolvedApp): Promise<void> {
  for (const [field, port] of Object.entries({
    appPort: app.appPort,
    daprHTTPPort: app.daprHTTPPort,
    daprGRPCPort: app.daprGRPCPort,
    daprInternalGRPCPort: app.daprInternalGRPCPort,
    metricsPort: app.metricsPort,
  })) {
    if (port <= 0) continue;
    await new Promise<void>((ok, fail) => {
      const server = createServer();
      server.once('error', () =>
        fail(
          new Error(
            `port ${port} (${app.appID} ${field} in the run file) is in use: is another \`npm start\` or \`dapr run\` running?`,
          ),
        ),
      );
      server.listen(port, '127.0.0.1', () => server.close(() => ok()));
    });
  }
}

/**
 * Starts the apps of the run file (dapr.yaml by default) the way `dapr run -f` does (cli-model.ts):
 * in file order, each daprd and then its app, in the app's folder, with the CLI's flags and
 * environment; then waits until every app and sidecar answers. On any failure everything started so far
 * is stopped and the error names the process, with the end of its output.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const runFilePath = o.runFile ?? join(PROJECT_ROOT, 'dapr.yaml');
  const baseDir = dirname(resolve(runFilePath));
  const root = o.root ?? mkdtempSync(join(tmpdir(), 'pdm-stack-'));
  const ownsRoot = !o.root;
  const topic = o.topic ?? 'products';
  const runFile = withVariants(readRunFile(runFilePath), baseDir, o.broker ?? 'redis', o.sql ?? 'postgres');
  const { file, names } = await stackRunFile(o, runFile, baseDir, root);
  const resolved = resolveRunFile(file, baseDir);

  const edits: ResourceEdits = { topic, metadata: o.metadata };
  for (const app of resolved)
    app.resourcesPaths = editResourceFolders(app.resourcesPaths, edits, join(root, '.dapr', 'resources'));
  // A stack of its own gets its own secrets; in the repository, `npm run setup` wrote them.
  if (root !== baseDir) writeSecretsFile(secretsFileOf(root), { ...localSecrets(o.databases.audit), ...o.secrets });

  const cli: CliContext = { env: { ...process.env, ...o.env }, runtimeVersion: DAPR_RUNTIME_VERSION };
  const logDir = join(root, '.dapr', 'logs');
  const nodes: Partial<Record<AppId, AppNode[]>> = {};
  const stack = new Stack(nodes, root, topic, ownsRoot, o.env?.DAPR_API_TOKEN);
  try {
    for (const [i, app] of resolved.entries()) {
      if (o.ports !== 'free') await requireFreePorts(app);
      const daprd = daprdInvocation(app, cli);
      const sentryAddress = o.sentryAddress;
      if (sentryAddress) daprd.args = daprd.args.map((a) => (a === CLI_SENTRY_ADDRESS ? sentryAddress : a));
      const node = new AppNode(app, daprd, appInvocation(app, cli), logDir, !!o.echo, names[i], o.env?.DAPR_API_TOKEN);
      (nodes[app.appID as AppId] ??= []).push(node);
      node.launch();
    }
    for (const node of stack.all()) await node.ready();
    return stack;
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
