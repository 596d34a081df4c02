import express, { Express } from 'express';
import type { Logger } from 'pino';
import type { Sequelize } from 'sequelize';
import type { DaprClient } from '@dapr/dapr';
import type { ServiceConfig } from './config';
import { createDaprClient, sidecarCheck } from './dapr';
import { createSequelize } from './db';
import { healthRoutes, ReadinessCheck } from './health';
import {
  daprAppCallbacks,
  errorHandler,
  jsonBody,
  methodNotAllowed,
  notFoundHandler,
  requestLogger,
  requireAppToken,
  versionHandler,
} from './http';
import { createLogger } from './logger';
import { Migration, prepareDatabase, runMigrations } from './migrations';
import { listen, onTerminate, runMain } from './server';

/** What the shared middleware needs to know about the service. */
export interface ServiceShell {
  logger: Logger;
  version: string;
  appApiToken?: string;
  bodyLimit: string;
  readiness: Record<string, ReadinessCheck>;
  isShuttingDown: () => boolean;
}

/**
 * The express app every service serves: request logging, health, the app token, Dapr's callbacks,
 * JSON bodies and `/api/version`, then the service's own routes (`routes`), then problem+json for
 * unknown routes and errors.
 */
export function createServiceApp(shell: ServiceShell, routes: (app: Express) => void): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple'); // flat query strings only: ?limit=1&offset=2
  app.use(requestLogger(shell.logger));
  app.use(healthRoutes(shell.readiness, shell.isShuttingDown));
  app.use(requireAppToken(shell.appApiToken));
  app.use(daprAppCallbacks());
  app.use(jsonBody(shell.bodyLimit));
  app
    .route('/api/version')
    .get(versionHandler(shell.version))
    .all(methodNotAllowed(['GET']));
  routes(app);
  app.use(notFoundHandler());
  app.use(errorHandler(shell.logger));
  return app;
}

/** What a service's own start-up hands to runService. */
export interface StartedService {
  app: Express;
  /** Fields for the "listening" log line. */
  describe?: Record<string, unknown>;
  /** Runs once the server listens. */
  afterListen?: () => void;
  /** Runs on SIGTERM/SIGINT after the server stopped taking requests, before the sidecar client and database close. */
  beforeClose?: (timeoutMs: number) => Promise<void>;
}

export interface ServiceContext<C extends ServiceConfig> {
  config: C;
  logger: Logger;
  sequelize: Sequelize;
  dapr: DaprClient;
  /** The shell for createServiceApp, from the configuration. */
  shell: ServiceShell;
}

/**
 * Runs a service the way both are run: configuration → database (migrated at start if asked) → sidecar
 * client → the service's own start → HTTP server → graceful shutdown on SIGTERM/SIGINT.
 */
export function runService<C extends ServiceConfig>(
  name: string,
  spec: {
    loadConfig: () => C;
    migrations: Migration[];
    start: (ctx: ServiceContext<C>) => StartedService | Promise<StartedService>;
  },
): void {
  runMain(async () => {
    const config = spec.loadConfig();
    const logger = createLogger(name, config.logLevel);
    const sequelize = createSequelize(config.db, logger);
    await prepareDatabase(sequelize, spec.migrations, config.migrateOnStart, logger);
    const dapr = createDaprClient(config.sidecar, logger);
    let shuttingDown = false;
    const shell: ServiceShell = {
      logger,
      version: config.version,
      appApiToken: config.appApiToken,
      bodyLimit: config.bodyLimit,
      readiness: { database: () => sequelize.authenticate(), sidecar: sidecarCheck(config.sidecar) },
      isShuttingDown: () => shuttingDown,
    };
    const service = await spec.start({ config, logger, sequelize, dapr, shell });
    const server = await listen(service.app, config.port);
    service.afterListen?.();
    logger.info({ port: server.port, version: config.version, ...service.describe }, `${name} listening`);

    onTerminate(logger, async () => {
      shuttingDown = true;
      await server.close(config.shutdownTimeoutMs);
      await service.beforeClose?.(config.shutdownTimeoutMs);
      await dapr.stop();
      await sequelize.close();
    });
  });
}

/** A service's `migrate` command: applies pending migrations under the database lock, then exits. */
export function runMigrateCommand(name: string, loadConfig: () => ServiceConfig, migrations: Migration[]): void {
  runMain(async () => {
    const config = loadConfig();
    const logger = createLogger(`${name}-migrate`, config.logLevel);
    await runMigrations(createSequelize(config.db, logger), migrations, logger);
  });
}
