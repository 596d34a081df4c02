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
        'config.DB_PASSWORD',
        'config.DATABASE_URL',
        'config.DAPR_API_TOKEN',
        'config.APP_API_TOKEN',
      ],
      censor: '[redacted]',
    },
  });
}

export type { Logger };
