import type { Express } from 'express';
import { createServiceApp, ServiceShell } from '@portable-dapr/common';
import { DeadLetterConsumer, ProductEventConsumer } from './events/consumer';
import type { AuditModels } from './models';
import { auditLogsRouter } from './routes/audit-logs';
import { deadLettersRouter } from './routes/dead-letters';
import { eventsRouter } from './routes/subscriptions';
import type { AuditSink } from './sinks/sink';

export interface AuditAppDeps {
  shell: ServiceShell;
  models: AuditModels;
  sink: AuditSink;
  maxPageSize: number;
  allowMutations: boolean;
}

/** The HTTP surface of the audit service: its API and the routes daprd delivers events to. */
export function createApp({ shell, models, sink, maxPageSize, allowMutations }: AuditAppDeps): Express {
  const { logger } = shell;
  return createServiceApp(shell, (app) => {
    app.use(eventsRouter(new ProductEventConsumer(sink, logger), new DeadLetterConsumer(sink, logger), logger));
    app.use('/api/auditlogs', auditLogsRouter({ models, maxPageSize, allowMutations }));
    app.use('/api/deadletters', deadLettersRouter({ models, maxPageSize }));
  });
}
