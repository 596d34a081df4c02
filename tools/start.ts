/**
 * `npm start [-- --broker redis|rabbitmq|mqtt|jetstream] [--sql postgres|mariadb] [--launcher]`
 * (or DAPR_BROKER / DAPR_SQL): both apps behind their sidecars, as dapr.yaml describes, logs on the
 * console. With a Dapr CLI 1.18 on PATH (or in .dapr/bin) this is `dapr run -f .`; otherwise, or with
 * --launcher, the project's launcher starts the same processes by the same rules (tools/stack).
 * Ctrl-C stops everything; so does a sidecar or app that fails.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { stringify } from 'yaml';
import { parseCliVersion } from './dapr/versions-check';
import { DAPR_CLI_LINE, daprHome, PROJECT_ROOT } from './dapr/versions';
import {
  AppId,
  BROKER_VARIANTS,
  CliRun,
  databaseAdmin,
  DEFAULT_TOPIC,
  parseBroker,
  parseSqlEngine,
  provisionJetStream,
  readRunFile,
  requireReachable,
  ResolvedApp,
  resolveRunFile,
  SQL_VARIANTS,
  startStack,
  withVariants,
} from './stack';

const RUN_FILE = join(PROJECT_ROOT, 'dapr.yaml');

function printHowToCall(apps: ResolvedApp[], logs: string): void {
  const url = (id: string) => `http://127.0.0.1:${apps.find((a) => a.appID === id)?.daprHTTPPort}`;
  console.log(`
Both apps are running behind their Dapr sidecars. Call them through service invocation:

  curl -i -X POST ${url('catalog')}/v1.0/invoke/catalog/method/api/products \\
       -H 'content-type: application/json' -d '{"name":"Pen","type":"Office","price":2.5}'
  curl ${url('catalog')}/v1.0/invoke/catalog/method/api/products
  curl ${url('catalog')}/v1.0/invoke/audit/method/api/auditlogs      # the audit API, through the catalog's sidecar
  curl ${url('audit')}/v1.0/invoke/audit/method/api/deadletters

Logs: ${logs}. Press Ctrl-C to stop everything.
`);
}

/** A Dapr CLI of the supported line: on PATH first, then the project's .dapr/bin. */
async function findCli(): Promise<string | undefined> {
  for (const candidate of ['dapr', daprHome().cli]) {
    if (candidate !== 'dapr' && !existsSync(candidate)) continue;
    try {
      const { stdout } = await promisify(execFile)(candidate, ['--version'], { timeout: 15_000 });
      if (parseCliVersion(stdout)?.startsWith(`${DAPR_CLI_LINE}.`)) return candidate;
    } catch {
      /* not installed, or not runnable */
    }
  }
  return undefined;
}

/** The run chosen on the command line (or by DAPR_BROKER / DAPR_SQL): the run file with its variants, and its apps. */
function chosenRun() {
  const { values } = parseArgs({
    options: { broker: { type: 'string' }, sql: { type: 'string' }, launcher: { type: 'boolean', default: false } },
  });
  const broker = parseBroker(values.broker ?? process.env.DAPR_BROKER);
  const sql = parseSqlEngine(values.sql ?? process.env.DAPR_SQL);
  const runFile = withVariants(readRunFile(RUN_FILE), PROJECT_ROOT, broker, sql);
  const apps = resolveRunFile(runFile, PROJECT_ROOT);
  return {
    broker,
    sql,
    launcher: values.launcher,
    runFile,
    apps,
    databases: Object.fromEntries(apps.map((a) => [a.appID, a.env.DB_NAME ?? a.appID])) as Record<AppId, string>,
    /** What differs from dapr.yaml as committed, for the messages. */
    variantNote: broker !== 'redis' || sql !== 'postgres' ? ` with broker=${broker}, sql=${sql}` : '',
  };
}

type Run = ReturnType<typeof chosenRun>;

/** The broker and the SQL server answer; the JetStream stream and the apps' databases exist. */
async function prepareInfrastructure({ broker, sql, databases }: Run): Promise<void> {
  await requireReachable(BROKER_VARIANTS[broker].endpoint);
  await requireReachable(SQL_VARIANTS[sql].endpoint);
  if (broker === 'jetstream') await provisionJetStream(DEFAULT_TOPIC, DEFAULT_TOPIC);
  const admin = databaseAdmin(sql);
  for (const db of Object.values(databases))
    if (await admin.ensureDatabase(db)) console.log(`created database ${db} (${sql})`);
}

/** `dapr run -f`, until it exits; resolves with the exit code. */
async function runWithCli(cli: string, { runFile, apps, variantNote }: Run): Promise<number> {
  // The CLI reads a run file from stdin relative to the working directory: the repository.
  const input = variantNote ? stringify(runFile) : undefined;
  console.log(
    `starting catalog + audit${variantNote}: ${cli} run -f ${input ? '- (dapr.yaml with the chosen resources)' : '.'}`,
  );
  const run = new CliRun(cli, PROJECT_ROOT, apps, input);
  return run.run(() => printHowToCall(apps, 'this console (the Dapr CLI prints daprd and app output)'));
}

/** The project's launcher: the same processes by the same rules, stopped on a signal or when one of them exits. */
async function runWithLauncher({ broker, sql, launcher, apps, databases, variantNote }: Run): Promise<void> {
  console.log(
    launcher
      ? `starting catalog + audit${variantNote} with the project's launcher (--launcher)`
      : `no Dapr CLI ${DAPR_CLI_LINE} found (PATH, .dapr/bin): starting catalog + audit${variantNote} with the project's launcher, as \`dapr run -f .\` would`,
  );
  const stack = await startStack({ root: PROJECT_ROOT, ports: 'file', broker, sql, databases, echo: true });
  printHowToCall(apps, `this console (also ${stack.logDir})`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('stopping…');
    await stack.stop();
    console.log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  for (const node of stack.all()) {
    for (const p of [node.app, node.sidecar]) {
      void p.exited().then((code) => {
        if (!stopping) {
          console.error(`${p.options.name} exited unexpectedly (code ${code}); stopping the rest`);
          void stop(1);
        }
      });
    }
  }
}

async function main(): Promise<void> {
  const run = chosenRun();
  await prepareInfrastructure(run);
  const cli = run.launcher ? undefined : await findCli();
  if (cli) process.exitCode = await runWithCli(cli, run);
  else await runWithLauncher(run);
}

main().catch((err: unknown) => {
  console.error(`npm start: ${(err as Error).message}`);
  process.exit(1);
});
