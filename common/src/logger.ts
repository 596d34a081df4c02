import pino, { Logger } from 'pino';

/** JSON logs on stdout; tokens and credentials never reach them. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["dapr-api-token"]',
        'req.headers.cookie',
        // A service's configuration, should it ever be logged: its secrets never are.
        'config.db.password',
        'config.db.url',
        'config.sidecar.apiToken',
        'config.appApiToken',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
