import type { DaprClient } from '@dapr/dapr';
import {
  createDaprClient,
  createLogger,
  createSequelize,
  listen,
  onTerminate,
  prepareDatabase,
  runMain,
  sidecarCheck,
} from '@portable-dapr/common';
import { createApp } from './app';
import { AuditConfig, loadConfig } from './config';
import { migrations } from './migrations';
import { AuditModels, initModels } from './models';
import { BindingSink } from './sinks/binding-sink';
import { SequelizeSink } from './sinks/sequelize-sink';
import type { AuditSink } from './sinks/sink';

function createSink(config: AuditConfig, dapr: DaprClient, models: AuditModels): AuditSink {
  return config.AUDIT_SINK === 'binding'
    ? new BindingSink(dapr, config.AUDIT_BINDING_NAME, config.bindingEngine)
    : new SequelizeSink(models);
}

/** Wires the audit service: config → database → sidecar client → sink → HTTP server → shutdown. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('audit', config.LOG_LEVEL);
  const sequelize = createSequelize(config.db, logger);
  const models = initModels(sequelize);
  await prepareDatabase(sequelize, migrations, config.MIGRATE_ON_START, logger);
  const dapr = createDaprClient(config, logger);

  let shuttingDown = false;
  const app = createApp({
    models,
    sink: createSink(config, dapr, models),
    logger,
    version: config.version,
    appApiToken: config.APP_API_TOKEN,
    bodyLimit: config.BODY_LIMIT,
    maxPageSize: config.MAX_PAGE_SIZE,
    allowMutations: config.AUDIT_ALLOW_MUTATIONS,
    readiness: { database: () => sequelize.authenticate(), sidecar: sidecarCheck(config) },
    isShuttingDown: () => shuttingDown,
  });
  const server = await listen(app, config.PORT);
  logger.info(
    { port: server.port, version: config.version, sink: config.AUDIT_SINK, binding: config.AUDIT_BINDING_NAME },
    'audit listening',
  );

  onTerminate(logger, async () => {
    shuttingDown = true;
    await server.close(config.SHUTDOWN_TIMEOUT_MS);
    await dapr.stop();
    await sequelize.close();
  });
}

runMain(main);
