import type { DaprClient } from '@dapr/dapr';
import { runService } from '@portable-dapr/common';
import { createApp } from './app';
import { loadConfig, SinkConfig } from './config';
import { migrations } from './migrations';
import { AuditModels, initModels } from './models';
import type { AuditSink } from './sinks/audit-sink';
import { BindingSink } from './sinks/binding-sink';
import { SequelizeSink } from './sinks/sequelize-sink';
import { AuditLogs } from './use-cases/audit-logs';
import { DeadLetterConsumer } from './use-cases/dead-letter-consumer';
import { DeadLetters } from './use-cases/dead-letters';
import { ProductEventConsumer } from './use-cases/product-event-consumer';

function createSink(sink: SinkConfig, dapr: DaprClient, models: AuditModels): AuditSink {
  return sink.kind === 'binding' ? new BindingSink(dapr, sink.bindingName, sink.engine) : new SequelizeSink(models);
}

/** The audit service: the AuditLogs API, and the routes daprd delivers the product events to. */
runService('audit', {
  loadConfig,
  migrations,
  start: ({ config, logger, sequelize, dapr, shell }) => {
    const models = initModels(sequelize);
    const sink = createSink(config.sink, dapr, models);
    return {
      app: createApp({
        shell,
        auditLogs: new AuditLogs(models, config.allowMutations),
        deadLetters: new DeadLetters(models),
        productEventConsumer: new ProductEventConsumer(sink, logger),
        deadLetterConsumer: new DeadLetterConsumer(sink, logger),
        maxPageSize: config.maxPageSize,
      }),
      describe: { sink: config.sink },
    };
  },
});
