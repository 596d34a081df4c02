import express, { Express } from 'express';
import type { Logger } from 'pino';
import {
  daprAppCallbacks,
  errorHandler,
  healthRoutes,
  jsonBody,
  methodNotAllowed,
  notFoundHandler,
  ReadinessCheck,
  requestLogger,
  requireAppToken,
  versionHandler,
} from '@portable-dapr/common';
import { DeadLetterConsumer, ProductEventConsumer } from './events/consumer';
import type { AuditModels } from './models';
import { auditLogsRouter } from './routes/auditlogs';
import { deadLettersRouter } from './routes/deadletters';
import { eventsRouter } from './routes/events';
import type { AuditSink } from './sinks/sink';

export interface AuditAppDeps {
  models: AuditModels;
  sink: AuditSink;
  logger: Logger;
  version: string;
  appApiToken?: string;
  bodyLimit: string;
  maxPageSize: number;
  allowMutations: boolean;
  readiness: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/** The HTTP surface of the audit service: its API and the routes daprd delivers events to. */
export function createApp(deps: AuditAppDeps): Express {
  const { logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLogger(logger));
  app.use(healthRoutes(deps.readiness, deps.isShuttingDown));
  app.use(requireAppToken(deps.appApiToken));
  app.use(daprAppCallbacks());
  app.use(jsonBody(deps.bodyLimit));
  app.use(eventsRouter(new ProductEventConsumer(deps.sink, logger), new DeadLetterConsumer(deps.sink, logger), logger));
  app
    .route('/api/version')
    .get(versionHandler(deps.version))
    .all(methodNotAllowed(['GET']));
  app.use(
    '/api/auditlogs',
    auditLogsRouter({ models: deps.models, maxPageSize: deps.maxPageSize, allowMutations: deps.allowMutations }),
  );
  app.use('/api/deadletters', deadLettersRouter({ models: deps.models, maxPageSize: deps.maxPageSize }));
  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return app;
}
