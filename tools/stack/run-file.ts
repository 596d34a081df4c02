import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The Dapr CLI's multi-app run file (dapr.yaml), read the way `dapr run -f` (CLI 1.18,
 * pkg/runfileconfig) reads it: the same fields, `common` merged into each app, paths resolved from the
 * same folders and the same defaults. Parsed strictly, so a misspelt field is an error here where the
 * CLI would silently ignore it.
 */

const logDestination = z.enum(['console', 'file', 'fileAndConsole']);
const envValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** Fields a run file may set in `common` and per app (the CLI's SharedRunConfig). */
const sharedFields = {
  configFilePath: z.string().optional(),
  appProtocol: z.enum(['http', 'https', 'grpc', 'grpcs', 'h2c']).optional(),
  apiListenAddresses: z.string().optional(),
  enableProfiling: z.boolean().optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'fatal', 'panic']).optional(),
  appMaxConcurrency: z.number().int().optional(),
  placementHostAddress: z.string().optional(),
  resourcesPath: z.string().optional(),
  resourcesPaths: z.array(z.string()).optional(),
  maxBodySize: z.string().optional(),
  readBufferSize: z.string().optional(),
  enableAppHealthCheck: z.boolean().optional(),
  appHealthCheckPath: z.string().optional(),
  appHealthProbeInterval: z.number().int().nonnegative().optional(),
  appHealthProbeTimeout: z.number().int().nonnegative().optional(),
  appHealthThreshold: z.number().int().nonnegative().optional(),
  enableApiLogging: z.boolean().optional(),
  runtimePath: z.string().optional(),
  env: z.record(z.string(), envValue).optional(),
  daprdLogDestination: logDestination.optional(),
  appLogDestination: logDestination.optional(),
  schedulerHostAddress: z.string().optional(),
};

const port = z.number().int().min(-1).max(65535).optional();

const appSchema = z.strictObject({
  ...sharedFields,
  appID: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a lowercase DNS label')
    .optional(),
  appDirPath: z.string().min(1, 'is required'),
  appChannelAddress: z.string().optional(),
  appPort: port,
  daprHTTPPort: port,
  daprGRPCPort: port,
  daprInternalGRPCPort: port,
  metricsPort: port,
  profilePort: port,
  unixDomainSocket: z.string().optional(),
  command: z.array(z.string()).optional(),
});

const runFileSchema = z.strictObject({
  version: z.literal(1),
  name: z.string().optional(),
  common: z.strictObject(sharedFields).optional(),
  apps: z.array(appSchema).min(1),
});

export type RunFile = z.infer<typeof runFileSchema>;
export type RunFileApp = z.infer<typeof appSchema>;
export type SharedFields = z.infer<z.ZodObject<typeof sharedFields>>;

/** Reads and checks a run file; every problem is named by its place in the file. */
export function readRunFile(file: string): RunFile {
  const result = runFileSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file} is not a valid Dapr run file:\n  - ${problems.join('\n  - ')}`);
  }
  return result.data;
}

/** One app of a run file with everything the CLI derives before starting it. */
export interface ResolvedApp {
  appID: string;
  /** Absolute; the working directory of both daprd and the app. */
  appDirPath: string;
  command: string[];
  appPort: number;
  daprHTTPPort: number;
  daprGRPCPort: number;
  daprInternalGRPCPort: number;
  metricsPort: number;
  profilePort: number;
  appChannelAddress: string;
  unixDomainSocket: string;
  /** Absolute. */
  configFilePath: string;
  /** Absolute. */
  resourcesPaths: string[];
  /** Absolute: the folder whose .dapr/bin holds daprd. */
  daprHome: string;
  appProtocol: string;
  apiListenAddresses: string;
  enableProfiling: boolean;
  logLevel: string;
  appMaxConcurrency: number;
  /** undefined: not set in the file (the CLI then uses its default); "" or blanks: turned off. */
  placementHostAddress?: string;
  schedulerHostAddress?: string;
  maxBodySize: string;
  readBufferSize: string;
  enableAppHealthCheck: boolean;
  appHealthCheckPath: string;
  appHealthProbeInterval: number;
  appHealthProbeTimeout: number;
  appHealthThreshold: number;
  enableApiLogging: boolean;
  /** The run file's env for this app (common's, overridden by the app's). */
  env: Record<string, string>;
  appLogDestination: z.infer<typeof logDestination>;
  daprdLogDestination: z.infer<typeof logDestination>;
}

/** `~` as the CLI expands it, then relative to `base`. */
function absolute(base: string, path: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
  return isAbsolute(expanded) ? expanded : resolve(base, expanded);
}

/**
 * Whether an app leaves a field to `common`: the CLI copies `common`'s value over every zero value (false,
 * 0, ""), except for the two addresses, which it keeps as pointers so that "" can mean "turned off".
 */
function isUnset(field: keyof SharedFields, value: unknown): boolean {
  if (field === 'placementHostAddress' || field === 'schedulerHostAddress') return value === undefined;
  return value === undefined || value === false || value === 0 || value === '';
}

function existing(path: string, field: string): string {
  if (!existsSync(path)) throw new Error(`${field}: ${path} does not exist`);
  return path;
}

/** The Dapr home the CLI uses: <runtimePath>/.dapr, else $DAPR_RUNTIME_PATH/.dapr, else ~/.dapr. */
export function daprHomeOf(runtimePath: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const root = runtimePath ?? env.DAPR_RUNTIME_PATH;
  return root ? join(root, '.dapr') : join(env.HOME ?? homedir(), '.dapr');
}

/**
 * Resolves each app as the CLI does (pkg/runfileconfig, CLI 1.18): `common`'s paths from the run file's
 * folder and an app's own paths from its appDirPath; each field the app leaves unset taken from
 * `common`; env merged key by key; resources and configuration by the CLI's precedence (app field,
 * then <appDirPath>/.dapr/resources or config.yaml, then `common`, then the Dapr home's); the CLI's
 * defaults for the rest.
 */
export function resolveRunFile(runFile: RunFile, baseDir: string, env: NodeJS.ProcessEnv = process.env): ResolvedApp[] {
  const common = runFile.common ?? {};
  const commonPaths = resolveCommonPaths(common, baseDir);
  return runFile.apps.map((app, i) => {
    const paths = resolveAppPaths(app, `apps[${i}]`, baseDir, commonPaths, env);
    return {
      appID: app.appID ?? basename(paths.appDirPath),
      ...paths,
      ...appOnlyFields(app),
      ...sharedFieldsOf(app, common),
    };
  });
}

/** `common`'s paths, each checked to exist. */
interface CommonPaths {
  resources: string[];
  config?: string;
  runtime?: string;
}

/** `common`'s paths, resolved from the run file's folder. */
function resolveCommonPaths(common: SharedFields, baseDir: string): CommonPaths {
  const commonPath = (p: string | undefined, field: string) =>
    p ? existing(absolute(baseDir, p), `common.${field}`) : undefined;
  return {
    resources: [...(common.resourcesPaths ?? []), ...(common.resourcesPath ? [common.resourcesPath] : [])].map((p) =>
      existing(absolute(baseDir, p), 'common.resourcesPaths'),
    ),
    config: commonPath(common.configFilePath, 'configFilePath'),
    runtime: commonPath(common.runtimePath, 'runtimePath'),
  };
}

/**
 * An app's folder and the paths resolved from it: its Dapr home, then its resources and configuration
 * by the CLI's precedence (the app's field, its .dapr folder, `common`'s, the Dapr home's).
 */
function resolveAppPaths(
  app: RunFileApp,
  where: string,
  baseDir: string,
  common: CommonPaths,
  env: NodeJS.ProcessEnv,
): Pick<ResolvedApp, 'appDirPath' | 'daprHome' | 'resourcesPaths' | 'configFilePath'> {
  const appDir = existing(absolute(baseDir, app.appDirPath), `${where}.appDirPath`);
  const ownPath = (p: string | undefined, field: string) =>
    p ? existing(absolute(appDir, p), `${where}.${field}`) : undefined;
  const daprHome = daprHomeOf(ownPath(app.runtimePath, 'runtimePath') ?? common.runtime, env);
  const ownResources = [...(app.resourcesPaths ?? []), ...(app.resourcesPath ? [app.resourcesPath] : [])].map((p) =>
    existing(absolute(appDir, p), `${where}.resourcesPaths`),
  );
  const localResources = join(appDir, '.dapr', 'resources');
  const localConfig = join(appDir, '.dapr', 'config.yaml');
  const resourcesPaths = ownResources.length
    ? ownResources
    : existsSync(localResources)
      ? [localResources]
      : common.resources.length
        ? common.resources
        : [join(daprHome, 'components')];
  const configFilePath =
    ownPath(app.configFilePath, 'configFilePath') ??
    (existsSync(localConfig) ? localConfig : (common.config ?? join(daprHome, 'config.yaml')));
  return { appDirPath: appDir, daprHome, resourcesPaths, configFilePath };
}

/** The fields only an app sets (`common` has none of them), with the CLI's defaults. */
function appOnlyFields(app: RunFileApp) {
  return {
    command: app.command ?? [],
    appPort: app.appPort ?? -1,
    daprHTTPPort: app.daprHTTPPort ?? -1,
    daprGRPCPort: app.daprGRPCPort ?? -1,
    daprInternalGRPCPort: app.daprInternalGRPCPort ?? -1,
    metricsPort: app.metricsPort ?? -1,
    profilePort: app.profilePort ?? -1,
    appChannelAddress: app.appChannelAddress ?? '',
    unixDomainSocket: app.unixDomainSocket ?? '',
  };
}

/** The fields an app may leave to `common` (each taken from it when the app leaves it unset), with the CLI's defaults. */
function sharedFieldsOf(app: RunFileApp, common: SharedFields) {
  const pick = <K extends keyof SharedFields>(k: K): SharedFields[K] => (isUnset(k, app[k]) ? common[k] : app[k]);
  return {
    appProtocol: pick('appProtocol') ?? 'http',
    apiListenAddresses: pick('apiListenAddresses') ?? '',
    enableProfiling: pick('enableProfiling') ?? false,
    logLevel: pick('logLevel') ?? '',
    appMaxConcurrency: pick('appMaxConcurrency') ?? -1,
    placementHostAddress: pick('placementHostAddress'),
    schedulerHostAddress: pick('schedulerHostAddress'),
    maxBodySize: pick('maxBodySize') ?? '4Mi',
    readBufferSize: pick('readBufferSize') ?? '4Ki',
    enableAppHealthCheck: pick('enableAppHealthCheck') ?? false,
    appHealthCheckPath: pick('appHealthCheckPath') ?? '',
    appHealthProbeInterval: pick('appHealthProbeInterval') ?? 0,
    appHealthProbeTimeout: pick('appHealthProbeTimeout') ?? 0,
    appHealthThreshold: pick('appHealthThreshold') ?? 0,
    enableApiLogging: pick('enableApiLogging') ?? false,
    env: { ...common.env, ...app.env },
    appLogDestination: pick('appLogDestination') ?? 'fileAndConsole',
    daprdLogDestination: pick('daprdLogDestination') ?? 'file',
  };
}

/** Reads a run file (a path to it, or to the folder holding dapr.yaml) and resolves its apps. */
export function loadRunFile(path: string, env: NodeJS.ProcessEnv = process.env): ResolvedApp[] {
  const file = existsSync(join(path, 'dapr.yaml')) ? join(path, 'dapr.yaml') : path;
  return resolveRunFile(readRunFile(file), dirname(resolve(file)), env);
}
