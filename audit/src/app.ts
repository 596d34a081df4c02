import type { Express } from 'express';
import { createServiceApp, ServiceShell } from '@portable-dapr/common';
import { auditLogsRouter } from './routes/audit-logs';
import { deadLettersRouter } from './routes/dead-letters';
import { subscriptionsRouter } from './routes/subscriptions';
import type { AuditLogs } from './use-cases/audit-logs';
import type { DeadLetterConsumer } from './use-cases/dead-letter-consumer';
import type { DeadLetters } from './use-cases/dead-letters';
import type { ProductEventConsumer } from './use-cases/product-event-consumer';

export interface AuditAppDeps {
  shell: ServiceShell;
  auditLogs: AuditLogs;
  deadLetters: DeadLetters;
  productEventConsumer: ProductEventConsumer;
  deadLetterConsumer: DeadLetterConsumer;
  maxPageSize: number;
}

/**
 * The HTTP surface of the audit service, its API and the routes daprd delivers events to, over its use
 * cases, injected (no I/O happens here).
 */
export function createApp(deps: AuditAppDeps): Express {
  const { shell, auditLogs, deadLetters, productEventConsumer, deadLetterConsumer, maxPageSize } = deps;
  return createServiceApp(shell, (app) => {
    app.use(subscriptionsRouter({ productEventConsumer, deadLetterConsumer, logger: shell.logger }));
    app.use('/api/auditlogs', auditLogsRouter({ auditLogs, maxPageSize }));
    app.use('/api/deadletters', deadLettersRouter({ deadLetters, maxPageSize }));
  });
}
