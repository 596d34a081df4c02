import type { DaprClient } from '@dapr/dapr';
import { runService } from '@portable-dapr/common';
import { createApp } from './app';
import { loadConfig, SinkConfig } from './config';
import { migrations } from './migrations';
import { AuditModels, initModels } from './models';
import { BindingSink } from './sinks/binding-sink';
import { SequelizeSink } from './sinks/sequelize-sink';
import type { AuditSink } from './sinks/sink';

function createSink(sink: SinkConfig, dapr: DaprClient, models: AuditModels): AuditSink {
  return sink.kind === 'binding' ? new BindingSink(dapr, sink.bindingName, sink.engine) : new SequelizeSink(models);
}

/** The audit service: the AuditLogs API, and the routes daprd delivers the product events to. */
runService('audit', {
  loadConfig,
  migrations,
  start: ({ config, sequelize, dapr, shell }) => {
    const models = initModels(sequelize);
    return {
      app: createApp({
        shell,
        models,
        sink: createSink(config.sink, dapr, models),
        maxPageSize: config.maxPageSize,
        allowMutations: config.allowMutations,
      }),
      describe: { sink: config.sink },
    };
  },
});
