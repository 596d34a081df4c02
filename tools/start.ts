/**
 * `npm start [-- --broker redis|rabbitmq|mqtt|jetstream] [--sql postgres|mariadb]`
 * (or DAPR_BROKER / DAPR_SQL): checks the local servers, creates the databases, runs the migrations and
 * starts both apps behind their sidecars as dapr.yaml describes, logs on the console. Ctrl-C stops all.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from './dapr/versions';
import { databaseAdmin, provisionJetStream, requireReachable } from './stack/infra';
import { DEFAULT_TOPIC } from './stack/resources';
import { Stack, startStack } from './stack/stack';
import { BROKER_VARIANTS, parseBroker, parseSqlEngine, SQL_VARIANTS } from './stack/variants';

const DATABASES = { catalog: 'catalog', audit: 'audit' };

function ensureSecretsFile(): void {
  const dir = join(PROJECT_ROOT, 'components', 'secrets');
  if (!existsSync(join(dir, 'secrets.json'))) {
    copyFileSync(join(dir, 'secrets.example.json'), join(dir, 'secrets.json'));
    console.log('created components/secrets/secrets.json from secrets.example.json (git-ignored; edit it for other servers)');
  }
}

function printHowToCall(stack: Stack): void {
  const catalog = stack.node('catalog').daprUrl;
  const audit = stack.node('audit').daprUrl;
  console.log(`
Both apps are running behind their Dapr sidecars. Call them through service invocation:

  curl -i -X POST ${catalog}/v1.0/invoke/catalog/method/api/products \\
       -H 'content-type: application/json' -d '{"name":"Pen","type":"Office","price":2.5}'
  curl ${catalog}/v1.0/invoke/catalog/method/api/products
  curl ${catalog}/v1.0/invoke/audit/method/api/auditlogs      # the audit API, through the catalog's sidecar
  curl ${audit}/v1.0/invoke/audit/method/api/deadletters

Logs: this console (also under ${stack.runDir}). Press Ctrl-C to stop everything.
`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { broker: { type: 'string' }, sql: { type: 'string' } } });
  const broker = parseBroker(values.broker ?? process.env.DAPR_BROKER);
  const sql = parseSqlEngine(values.sql ?? process.env.DAPR_SQL);
  console.log(`starting catalog + audit with broker=${broker}, sql=${sql}`);

  await requireReachable(BROKER_VARIANTS[broker].endpoint);
  await requireReachable(SQL_VARIANTS[sql].endpoint);
  if (broker === 'jetstream') await provisionJetStream(DEFAULT_TOPIC, DEFAULT_TOPIC);
  const admin = databaseAdmin(sql);
  for (const db of Object.values(DATABASES)) if (await admin.ensureDatabase(db)) console.log(`created database ${db} (${sql})`);
  ensureSecretsFile();

  const stack = await startStack({ broker, sql, ports: 'template', runDir: join(PROJECT_ROOT, '.dapr', 'run'), databases: DATABASES, echo: true });
  printHowToCall(stack);

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

main().catch((err: unknown) => {
  console.error(`npm start: ${(err as Error).message}`);
  process.exit(1);
});
