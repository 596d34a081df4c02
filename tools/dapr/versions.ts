import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The Dapr versions this project is built and tested with. */
export const DAPR_RUNTIME_VERSION = '1.18.3';
/** The Dapr CLI line `npm start` uses when one is installed (any 1.18.x). */
export const DAPR_CLI_LINE = '1.18';
/** dapr/dapr v1.18.3's go.mod asks for this Go. */
export const MIN_GO_VERSION = '1.26.6';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** The project-local Dapr home: bin/ laid out like the one `dapr init` makes (`runtimePath: ./` finds it). */
export function daprHome(root = PROJECT_ROOT) {
  const home = join(root, '.dapr');
  return {
    home,
    bin: join(home, 'bin'),
    daprd: join(home, 'bin', 'daprd'),
    sentry: join(home, 'bin', 'sentry'),
    /** The sidecar injector and the operator: only the Kubernetes manifest tests run them (tools/kube). */
    injector: join(home, 'bin', 'injector'),
    operator: join(home, 'bin', 'operator'),
    cli: join(home, 'bin', 'dapr'),
    logs: join(home, 'logs'),
    buildLog: join(home, 'build.log'),
  };
}

/** Where `dapr init` installs. */
export function userDaprBin(): string {
  return join(process.env.DAPR_INSTALL_DIR ?? join(homedir(), '.dapr'), 'bin');
}

export const GO_BUILD_MODULE = join(PROJECT_ROOT, 'tools', 'dapr-build');

export function releaseUrls(platform = process.platform, arch = process.arch) {
  const os = platform === 'win32' ? 'windows' : platform;
  const cpu = arch === 'x64' ? 'amd64' : arch;
  return {
    daprd: `https://github.com/dapr/dapr/releases/download/v${DAPR_RUNTIME_VERSION}/daprd_${os}_${cpu}.tar.gz`,
    sentry: `https://github.com/dapr/dapr/releases/download/v${DAPR_RUNTIME_VERSION}/sentry_${os}_${cpu}.tar.gz`,
  };
}
