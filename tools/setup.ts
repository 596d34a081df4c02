/**
 * `npm run setup`, run by `npm install` (postinstall, after the build), `npm start` and `npm test`: what
 * `dapr run -f .` needs besides the committed files and the build.
 *   - the pinned Dapr runtime in .dapr/bin, where dapr.yaml's runtimePath points (tools/dapr/setup.ts);
 *   - .dapr/secrets.json, the local secret store's file: missing keys added, values already there kept;
 *   - the apps' databases on the local server named in dapr.yaml (the apps apply their migrations at
 *     start: MIGRATE_ON_START in dapr.yaml).
 * Safe to run several times at once. With --soft (npm install) a step that cannot be done now (the
 * database server is down, no way to get daprd) is reported and the install carries on.
 */
import { parseArgs } from 'node:util';
import { ensureDaprRuntime } from './dapr/setup';
import { PROJECT_ROOT } from './dapr/versions';
import {
  databaseAdmin,
  loadRunFile,
  localSecrets,
  parseSqlEngine,
  requireReachable,
  secretsFileOf,
  SQL_VARIANTS,
  writeSecretsFile,
} from './stack';

const say = (message: string) => console.log(`[setup] ${message}`);

/** The database of each app of dapr.yaml (its DB_NAME), on the engine its DB_DIALECT names. */
function runFileDatabases() {
  const apps = loadRunFile(PROJECT_ROOT);
  const engine = parseSqlEngine(apps[0]?.env.DB_DIALECT);
  return { engine, names: Object.fromEntries(apps.map((a) => [a.appID, a.env.DB_NAME ?? a.appID])) };
}

async function ensureDatabases(engine: ReturnType<typeof parseSqlEngine>, names: string[]): Promise<void> {
  await requireReachable(SQL_VARIANTS[engine].endpoint);
  const admin = databaseAdmin(engine);
  for (const name of names) if (await admin.ensureDatabase(name)) say(`created database ${name} (${engine})`);
}

async function step(name: string, soft: boolean, fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (!soft) throw err;
    say(`NOT DONE: ${name}: ${(err as Error).message}`);
    say(`fix that, then run \`npm run setup\` (npm start and npm test run it too)`);
    return false;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { soft: { type: 'boolean', default: false } } });
  const soft = values.soft;
  const { engine, names } = runFileDatabases();
  const added = writeSecretsFile(secretsFileOf(PROJECT_ROOT), localSecrets(names.audit ?? 'audit'), {
    keepExisting: true,
  });
  if (added.length) say(`.dapr/secrets.json: added ${added.join(', ')} (git-ignored; edit it for other servers)`);
  const done = [
    await step('the Dapr runtime', soft, ensureDaprRuntime),
    await step(`the ${Object.values(names).join(' and ')} databases`, soft, () =>
      ensureDatabases(engine, Object.values(names)),
    ),
  ];
  if (done.every(Boolean)) say('ready: `dapr run -f .` or `npm start`');
}

main().catch((err: unknown) => {
  console.error(`[setup] ${(err as Error).message}`);
  process.exit(1);
});
