import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import type { Logger } from 'pino';
import type { SidecarConfig } from './config';

/**
 * One HTTP client to the sidecar for the whole process, with keep-alive so every call reuses a pooled
 * connection; DAPR_API_TOKEN is sent on each call when daprd requires it.
 */
export function createDaprClient(config: SidecarConfig, logger: Logger): DaprClient {
  return new DaprClient({
    daprHost: config.host,
    daprPort: String(config.httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    isKeepAlive: true,
    daprApiToken: config.apiToken,
    logger: { level: LogLevel.Error, service: new SdkLogService(logger) },
  });
}

/** Routes the SDK's own log lines into the service's JSON log. */
class SdkLogService {
  constructor(private readonly logger: Logger) {}
  error(message: unknown, ...args: unknown[]) {
    this.logger.error({ sdk: 'dapr', args }, String(message));
  }
  warn(message: unknown, ...args: unknown[]) {
    this.logger.warn({ sdk: 'dapr', args }, String(message));
  }
  info(message: unknown, ...args: unknown[]) {
    this.logger.info({ sdk: 'dapr', args }, String(message));
  }
  verbose(message: unknown, ...args: unknown[]) {
    this.logger.debug({ sdk: 'dapr', args }, String(message));
  }
  debug(message: unknown, ...args: unknown[]) {
    this.logger.trace({ sdk: 'dapr', args }, String(message));
  }
}

/**
 * Readiness check: daprd is up and its components are initialised (`/v1.0/healthz/outbound`).
 * A plain request on purpose: the SDK's health call first waits up to a minute for the sidecar.
 */
export function sidecarCheck(config: SidecarConfig): () => Promise<void> {
  const url = `http://${config.host}:${config.httpPort}/v1.0/healthz/outbound`;
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_500) });
    if (res.status !== 204) throw new Error(`sidecar answered ${res.status}`);
  };
}
