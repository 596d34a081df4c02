import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ResolvedApp } from './run-file';

/**
 * How `dapr run -f` (Dapr CLI 1.18, cmd/run.go and pkg/standalone/run.go) starts one app of a run file:
 * which processes, in which folder, with which arguments and environment. The launcher starts every
 * process from these, so `npm start`, the tests and the benchmark run the run file as the CLI does.
 */

export interface Invocation {
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Where the CLI points daprd when the Configuration turns mTLS on (it runs sentry there). */
export const CLI_SENTRY_ADDRESS = 'localhost:50001';
const PLACEMENT_DEFAULT_PORT = 50005;
const SCHEDULER_DEFAULT_PORT = 50006;

/** `host` with the default port added when it has none. */
const withPort = (address: string, port: number) => (address.includes(':') ? address : `${address}:${port}`);

/**
 * The placement address the CLI passes: the default when the file does not set one, none when it sets a
 * blank value.
 */
function placementAddress(value: string | undefined): string {
  if (value === undefined) return `localhost:${PLACEMENT_DEFAULT_PORT}`;
  const trimmed = value.trim();
  return trimmed ? withPort(trimmed, PLACEMENT_DEFAULT_PORT) : '';
}

/**
 * The scheduler address the CLI passes. For a daprd newer than 1.15 (as found in the Dapr home) an unset
 * or empty value becomes `localhost`; only a value that is blank after trimming (" ") turns it off.
 */
function schedulerAddress(value: string | undefined, runtimeVersion: string | undefined): string {
  const raw = value === undefined || value === '' ? (isNewerThan115(runtimeVersion) ? 'localhost' : '') : value;
  const trimmed = raw.trim();
  return trimmed ? withPort(trimmed, SCHEDULER_DEFAULT_PORT) : '';
}

function isNewerThan115(version: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return !!m && (Number(m[1]) > 1 || (Number(m[1]) === 1 && Number(m[2]) >= 15));
}

/** Whether the Configuration file turns mTLS on, as the CLI reads it (spec.mtls.enabled). */
export function mtlsEnabled(configFile: string): boolean {
  try {
    const doc = parse(readFileSync(configFile, 'utf8')) as { spec?: { mtls?: { enabled?: unknown } } } | null;
    return doc?.spec?.mtls?.enabled === true;
  } catch {
    return false;
  }
}

/** One flag per field with a value, in the order of the CLI's RunConfig struct (getArgsFromSchema). */
export function daprdArgs(app: ResolvedApp, runtimeVersion: string | undefined): string[] {
  const args: string[] = [];
  const text = (flag: string, value: string, unless?: string) => {
    if (value.trim() !== '' && value !== unless) args.push(flag, value);
  };
  const number = (flag: string, value: number, unless?: number) => {
    if (value !== unless) args.push(flag, String(value));
  };
  const bool = (flag: string, value: boolean) => {
    if (value) args.push(flag);
  };
  text('--config', app.configFilePath);
  text('--app-protocol', app.appProtocol);
  text('--dapr-listen-addresses', app.apiListenAddresses);
  bool('--enable-profiling', app.enableProfiling);
  text('--log-level', app.logLevel);
  number('--app-max-concurrency', app.appMaxConcurrency < 1 ? -1 : app.appMaxConcurrency);
  text('--placement-host-address', placementAddress(app.placementHostAddress));
  for (const path of app.resourcesPaths) args.push('--resources-path', path);
  text('--max-body-size', app.maxBodySize);
  text('--read-buffer-size', app.readBufferSize);
  bool('--enable-app-health-check', app.enableAppHealthCheck);
  text('--app-health-check-path', app.appHealthCheckPath);
  number('--app-health-probe-interval', app.appHealthProbeInterval, 0);
  number('--app-health-probe-timeout', app.appHealthProbeTimeout, 0);
  number('--app-health-threshold', app.appHealthThreshold, 0);
  bool('--enable-api-logging', app.enableApiLogging);
  text('--scheduler-host-address', schedulerAddress(app.schedulerHostAddress, runtimeVersion));
  text('--app-id', app.appID);
  text('--app-channel-address', app.appChannelAddress, '127.0.0.1');
  number('--app-port', Math.max(app.appPort, 0));
  number('--dapr-http-port', app.daprHTTPPort);
  number('--dapr-grpc-port', app.daprGRPCPort);
  number('--profile-port', app.profilePort);
  number('--metrics-port', app.metricsPort);
  text('--unix-domain-socket', app.unixDomainSocket);
  number('--dapr-internal-grpc-port', app.daprInternalGRPCPort);
  if (mtlsEnabled(app.configFilePath)) args.push('--enable-mtls', '--sentry-address', CLI_SENTRY_ADDRESS);
  return args;
}

export interface CliContext {
  /** The environment of the `dapr` process itself: daprd and the app inherit it. */
  env: NodeJS.ProcessEnv;
  /** The daprd version the CLI finds in the user's Dapr home (it decides the scheduler default). */
  runtimeVersion?: string;
}

/**
 * daprd: <daprHome>/bin/daprd with the flags above, in the app's folder, with the CLI's own environment
 * (never the run file's env) plus DAPR_HOST_IP.
 */
export function daprdInvocation(app: ResolvedApp, cli: CliContext): Invocation {
  return {
    file: join(app.daprHome, 'bin', 'daprd'),
    args: daprdArgs(app, cli.runtimeVersion),
    cwd: app.appDirPath,
    env: { ...cli.env, DAPR_HOST_IP: cli.env.DAPR_HOST_IP ?? '127.0.0.1' },
  };
}

/**
 * The app: its command through `sh -c 'exec "$@"'`, in its folder, with the CLI's environment, then the
 * variables the CLI derives from the run file (ports left at 0 or below are not set), then the run
 * file's env, which wins.
 */
export function appInvocation(app: ResolvedApp, cli: CliContext): Invocation {
  if (!app.command.length) throw new Error(`app ${app.appID} has no command`);
  const derived: Record<string, string> = { APP_ID: app.appID, APP_CHANNEL_ADDRESS: app.appChannelAddress };
  const ports: [string, number][] = [
    ['APP_PORT', app.appPort],
    ['DAPR_HTTP_PORT', app.daprHTTPPort],
    ['DAPR_GRPC_PORT', app.daprGRPCPort],
    ['DAPR_METRICS_PORT', app.metricsPort],
  ];
  for (const [name, value] of ports) if (value > 0) derived[name] = String(value);
  derived.APP_PROTOCOL = app.appProtocol;
  return {
    file: 'sh',
    args: ['-c', 'exec "$@"', 'sh', ...app.command],
    cwd: app.appDirPath,
    env: { ...cli.env, ...derived, ...app.env },
  };
}
