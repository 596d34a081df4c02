import express, { Express } from 'express';
import type { Sequelize } from 'sequelize';
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
import type { CatalogModels } from './models';
import { productsRouter } from './routes/products';

export interface CatalogAppDeps {
  sequelize: Sequelize;
  models: CatalogModels;
  logger: Logger;
  version: string;
  appApiToken?: string;
  bodyLimit: string;
  maxPageSize: number;
  readiness: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
  onEventCommitted: () => void;
}

/** The HTTP surface of the catalog, from injected dependencies (no I/O happens here). */
export function createApp(deps: CatalogAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple'); // flat query strings only: ?limit=1&offset=2
  app.use(requestLogger(deps.logger));
  app.use(healthRoutes(deps.readiness, deps.isShuttingDown));
  app.use(requireAppToken(deps.appApiToken));
  app.use(daprAppCallbacks());
  app.use(jsonBody(deps.bodyLimit));
  app
    .route('/api/version')
    .get(versionHandler(deps.version))
    .all(methodNotAllowed(['GET']));
  app.use(
    '/api/products',
    productsRouter({
      sequelize: deps.sequelize,
      models: deps.models,
      maxPageSize: deps.maxPageSize,
      onEventCommitted: deps.onEventCommitted,
    }),
  );
  app.use(notFoundHandler());
  app.use(errorHandler(deps.logger));
  return app;
}
