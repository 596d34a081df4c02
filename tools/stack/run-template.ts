import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The subset of the Dapr multi-app run template (dapr.yaml) this project uses, parsed strictly so a
 * typo in the file is an error here rather than a silently ignored field.
 */
const shared = {
  resourcesPaths: z.array(z.string()).optional(),
  configFilePath: z.string().optional(),
  runtimePath: z.string().optional(),
  placementHostAddress: z.string().optional(),
  schedulerHostAddress: z.string().optional(),
  appProtocol: z.enum(['http']).optional(),
  enableAppHealthCheck: z.boolean().optional(),
  appHealthCheckPath: z.string().optional(),
  appHealthProbeInterval: z.number().int().positive().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  appLogDestination: z.enum(['console', 'file', 'fileAndConsole']).optional(),
  daprdLogDestination: z.enum(['console', 'file', 'fileAndConsole']).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
};

const templateSchema = z.strictObject({
  version: z.literal(1),
  common: z.strictObject(shared).optional(),
  apps: z
    .array(
      z.strictObject({
        ...shared,
        appID: z.string().regex(/^[a-z0-9-]+$/),
        appDirPath: z.string(),
        appPort: z.number().int().positive(),
        daprHTTPPort: z.number().int().positive(),
        daprGRPCPort: z.number().int().positive(),
        daprInternalGRPCPort: z.number().int().positive(),
        metricsPort: z.number().int().positive(),
        command: z.array(z.string()).min(1),
      }),
    )
    .min(1),
});

export interface AppSpec {
  appID: string;
  /** Absolute. */
  appDir: string;
  command: string[];
  appPort: number;
  daprHTTPPort: number;
  daprGRPCPort: number;
  daprInternalGRPCPort: number;
  metricsPort: number;
  /** Absolute. */
  resourcesPaths: string[];
  /** Absolute. */
  configFile?: string;
  /** Absolute: the folder holding `.dapr/bin/daprd`. */
  runtimePath: string;
  enableAppHealthCheck: boolean;
  appHealthCheckPath: string;
  appHealthProbeInterval?: number;
  logLevel: string;
  env: Record<string, string>;
}

/** Reads dapr.yaml and resolves each app's settings (app values over `common`, paths from the file's folder). */
export function readRunTemplate(file: string): AppSpec[] {
  const base = dirname(resolve(file));
  const t = templateSchema.parse(parse(readFileSync(file, 'utf8')));
  const common = t.common ?? {};
  const abs = (p: string) => resolve(base, p);
  return t.apps.map((app) => {
    const pick = <K extends keyof typeof common>(k: K) => (app[k] ?? common[k]) as (typeof common)[K];
    const env = Object.fromEntries(Object.entries({ ...common.env, ...app.env }).map(([k, v]) => [k, String(v)]));
    const configFilePath = pick('configFilePath');
    return {
      appID: app.appID,
      appDir: abs(app.appDirPath),
      command: app.command,
      appPort: app.appPort,
      daprHTTPPort: app.daprHTTPPort,
      daprGRPCPort: app.daprGRPCPort,
      daprInternalGRPCPort: app.daprInternalGRPCPort,
      metricsPort: app.metricsPort,
      resourcesPaths: (pick('resourcesPaths') ?? ['./components']).map(abs),
      configFile: configFilePath ? abs(configFilePath) : undefined,
      runtimePath: abs(pick('runtimePath') ?? '.'),
      enableAppHealthCheck: pick('enableAppHealthCheck') ?? false,
      appHealthCheckPath: pick('appHealthCheckPath') ?? '/healthz',
      appHealthProbeInterval: pick('appHealthProbeInterval'),
      logLevel: pick('logLevel') ?? 'info',
      env,
    };
  });
}
