import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { must } from '../../test/support/must';
import { appInvocation, daprdArgs, daprdInvocation } from './cli-model';
import { cliFailure } from './cli-run';
import { loadRunFile, readRunFile, ResolvedApp, resolveRunFile } from './run-file';
import { withVariants } from './variants';

/**
 * The launcher's process model pinned against the Dapr CLI 1.18's (`dapr run -f`, read from its source:
 * cmd/run.go, pkg/standalone/run.go, pkg/runfileconfig): for each app of dapr.yaml, the working
 * directory, daprd's argv and environment, and the app's command and environment.
 */
const ROOT = resolve(__dirname, '..', '..');
const cliEnv = { PATH: '/usr/bin:/bin', HOME: '/home/user', FROM_SHELL: 'yes' };
const cli = { env: cliEnv, runtimeVersion: '1.18.3' };
const apps = () =>
  Object.fromEntries(loadRunFile(ROOT).map((a) => [a.appID, a])) as Record<'catalog' | 'audit', ResolvedApp>;

describe('dapr.yaml as `dapr run -f .` starts it', () => {
  const expectedArgs = (id: string, ports: [number, number, number, number, number]) => [
    '--config',
    join(ROOT, 'components/configuration.yaml'),
    '--app-protocol',
    'http',
    '--dapr-listen-addresses',
    '127.0.0.1',
    '--log-level',
    'info',
    '--app-max-concurrency',
    '-1',
    '--resources-path',
    join(ROOT, 'components/shared'),
    '--resources-path',
    join(ROOT, 'components/brokers/redis'),
    '--resources-path',
    join(ROOT, 'components/sql/postgres'),
    '--max-body-size',
    '4Mi',
    '--read-buffer-size',
    '4Ki',
    '--enable-app-health-check',
    '--app-health-check-path',
    '/healthz',
    '--app-health-probe-interval',
    '3',
    '--app-id',
    id,
    '--app-port',
    String(ports[0]),
    '--dapr-http-port',
    String(ports[1]),
    '--dapr-grpc-port',
    String(ports[2]),
    '--profile-port',
    '-1',
    '--metrics-port',
    String(ports[4]),
    '--dapr-internal-grpc-port',
    String(ports[3]),
  ];

  it.each([
    ['catalog', [5001, 3500, 50001, 50011, 9091]],
    ['audit', [5002, 3501, 50002, 50012, 9092]],
  ] as const)(
    '%s: daprd from .dapr/bin in the app folder, flags by the CLI rules, the CLI environment only',
    (id, ports) => {
      const daprd = daprdInvocation(apps()[id], cli);
      expect(daprd.file).toBe(join(ROOT, '.dapr/bin/daprd'));
      expect(daprd.cwd).toBe(join(ROOT, id));
      expect(daprd.args).toEqual(expectedArgs(id, [...ports]));
      // No placement and no scheduler flag at all: "" and " " both end up blank.
      expect(daprd.args.join(' ')).not.toMatch(/placement|scheduler/);
      // daprd does not get the run file's env.
      expect(daprd.env).toEqual({ ...cliEnv, DAPR_HOST_IP: '127.0.0.1' });
    },
  );

  it.each([
    ['catalog', 5001, 3500, 50001, 9091, { DB_NAME: 'catalog', PUBSUB_NAME: 'pubsub', PUBSUB_TOPIC: 'products' }],
    ['audit', 5002, 3501, 50002, 9092, { DB_NAME: 'audit', AUDIT_SINK: 'binding', AUDIT_BINDING_NAME: 'audit-db' }],
  ] as const)(
    '%s: the command through sh in the app folder, with the CLI env, the derived ports and the run file env',
    (id, appPort, http, grpc, metrics, own) => {
      const app = appInvocation(apps()[id], cli);
      expect(app).toEqual({
        file: 'sh',
        args: ['-c', 'exec "$@"', 'sh', 'node', 'dist/main.js'],
        cwd: join(ROOT, id),
        env: {
          ...cliEnv,
          APP_ID: id,
          APP_CHANNEL_ADDRESS: '',
          APP_PORT: String(appPort),
          DAPR_HTTP_PORT: String(http),
          DAPR_GRPC_PORT: String(grpc),
          DAPR_METRICS_PORT: String(metrics),
          APP_PROTOCOL: 'http',
          DB_DIALECT: 'postgres',
          DB_SERVER: '127.0.0.1',
          DB_USER: 'postgres',
          MIGRATE_ON_START: 'true',
          LOG_LEVEL: 'info',
          ...own,
        },
      });
    },
  );

  it('starts the consumer first (the CLI starts apps in file order)', () => {
    expect(loadRunFile(ROOT).map((a) => a.appID)).toEqual(['audit', 'catalog']);
  });
});

describe('the committed components under the CLI process model', () => {
  const resources = [...new Set(Object.values(apps()).flatMap((a) => a.resourcesPaths))];

  it('resources folders hold Dapr resource YAML only: daprd warns about anything else, sub-folders included', () => {
    for (const dir of resources) {
      for (const entry of readdirSync(dir)) {
        expect(statSync(join(dir, entry)).isFile() && /\.ya?ml$/.test(entry) ? entry : `${dir}/${entry}`).toBe(entry);
      }
    }
  });

  it('every path daprd resolves at run time points into the repository’s .dapr from each app folder, never from the root', () => {
    const yamlUnder = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? yamlUnder(join(d, e.name)) : /\.ya?ml$/.test(e.name) ? [join(d, e.name)] : [],
      );
    const relativePaths = yamlUnder(join(ROOT, 'components')).flatMap((f) =>
      parseAllDocuments(readFileSync(f, 'utf8')).flatMap((d) => {
        const r = d.toJS() as {
          kind: string;
          spec?: {
            metadata?: { name: string; value?: string }[];
            nameResolution?: { configuration?: { connectionString?: string } };
          };
        };
        const fileValues =
          r.kind === 'Component'
            ? (r.spec?.metadata ?? []).filter((m) => /File$|Path$|^root$/.test(m.name)).map((m) => m.value ?? '')
            : [];
        return [...fileValues, r.spec?.nameResolution?.configuration?.connectionString ?? ''].filter(
          (v) => v && !v.startsWith('/'),
        );
      }),
    );
    expect(relativePaths.sort()).toEqual(['../.dapr/nameresolution.db', '../.dapr/secrets.json']);
    for (const app of Object.values(apps())) {
      for (const p of relativePaths)
        expect(resolve(app.appDirPath, p)).toBe(join(ROOT, '.dapr', p.slice('../.dapr/'.length)));
    }
  });
});

describe('the CLI rules', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdm-runfile-'));
    for (const d of ['app', 'app/.dapr', 'res', 'app/own-res', 'runtime/.dapr/bin'])
      mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), 'kind: Configuration\nspec: {}\n');
    writeFileSync(join(dir, 'mtls.yaml'), 'kind: Configuration\nspec:\n  mtls:\n    enabled: true\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The first app of a run file, resolved. */
  const resolveYaml = (yaml: string) => {
    writeFileSync(join(dir, 'dapr.yaml'), yaml);
    return must(resolveRunFile(readRunFile(join(dir, 'dapr.yaml')), dir, { HOME: '/h' })[0], 'an app');
  };
  const one = (common: string, app = '') =>
    resolveYaml(`version: 1\ncommon:\n${common}\napps:\n  - appDirPath: ./app\n    appPort: 7000\n${app}`);
  /** The value daprd gets for a flag, with the Dapr home holding daprd `version` (null: none installed). */
  const flag = (a: ResolvedApp, name: string, version: string | null = '1.18.3') => {
    const args = daprdArgs(a, version ?? undefined);
    const at = args.indexOf(name);
    return at < 0 ? undefined : args[at + 1];
  };

  it('reproduces the command line observed for dapr.yaml at 9dedd5d (CLI 1.18.0, no Dapr home)', () => {
    const a = resolveYaml(
      [
        'version: 1',
        'common:',
        '  resourcesPaths: [./res]',
        '  configFilePath: ./config.yaml',
        '  runtimePath: ./runtime',
        '  placementHostAddress: ""',
        '  schedulerHostAddress: ""',
        '  appProtocol: http',
        '  enableAppHealthCheck: true',
        '  appHealthCheckPath: /healthz',
        '  appHealthProbeInterval: 3',
        '  logLevel: info',
        'apps:',
        '  - { appID: catalog, appDirPath: ./app, appPort: 5001, daprHTTPPort: 3500, daprGRPCPort: 50001, daprInternalGRPCPort: 50011, metricsPort: 9091, command: [node, dist/main.js] }',
      ].join('\n'),
    );
    expect(daprdArgs(a, undefined).join(' ')).toBe(
      `--config ${dir}/config.yaml --app-protocol http --log-level info --app-max-concurrency -1 --resources-path ${dir}/res --max-body-size 4Mi --read-buffer-size 4Ki ` +
        '--enable-app-health-check --app-health-check-path /healthz --app-health-probe-interval 3 --app-id catalog --app-port 5001 --dapr-http-port 3500 ' +
        '--dapr-grpc-port 50001 --profile-port -1 --metrics-port 9091 --dapr-internal-grpc-port 50011',
    );
    expect(daprdInvocation(a, { env: {} }).file).toBe(`${dir}/runtime/.dapr/bin/daprd`);
  });

  it('placement: the default when unset, none when blank, the default port added', () => {
    expect(flag(one('  logLevel: info'), '--placement-host-address')).toBe('localhost:50005');
    expect(flag(one('  placementHostAddress: ""'), '--placement-host-address')).toBeUndefined();
    expect(flag(one('  placementHostAddress: "  "'), '--placement-host-address')).toBeUndefined();
    expect(flag(one('  placementHostAddress: place'), '--placement-host-address')).toBe('place:50005');
    expect(flag(one('  placementHostAddress: "place:1"'), '--placement-host-address')).toBe('place:1');
  });

  it('scheduler: "" becomes localhost after a dapr init newer than 1.15; only " " turns it off', () => {
    expect(flag(one('  schedulerHostAddress: ""'), '--scheduler-host-address')).toBe('localhost:50006');
    expect(flag(one('  logLevel: info'), '--scheduler-host-address')).toBe('localhost:50006');
    expect(flag(one('  schedulerHostAddress: " "'), '--scheduler-host-address')).toBeUndefined();
    expect(flag(one('  schedulerHostAddress: ""'), '--scheduler-host-address', '1.14.4')).toBeUndefined();
    expect(flag(one('  schedulerHostAddress: ""'), '--scheduler-host-address', null)).toBeUndefined();
    expect(flag(one('  schedulerHostAddress: sched'), '--scheduler-host-address')).toBe('sched:50006');
  });

  it('resolves common paths from the run file and an app’s own from its appDirPath, app folder .dapr first', () => {
    const base = one('  resourcesPaths: [./res]\n  configFilePath: ./config.yaml');
    expect(base.resourcesPaths).toEqual([join(dir, 'res')]);
    expect(base.configFilePath).toBe(join(dir, 'config.yaml'));
    expect(base.daprHome).toBe('/h/.dapr');
    const own = one('  resourcesPaths: [./res]', '    resourcesPaths: [./own-res]\n    configFilePath: ../mtls.yaml\n');
    expect(own.resourcesPaths).toEqual([join(dir, 'app/own-res')]);
    expect(own.configFilePath).toBe(join(dir, 'mtls.yaml'));
    mkdirSync(join(dir, 'app/.dapr/resources'));
    writeFileSync(join(dir, 'app/.dapr/config.yaml'), 'kind: Configuration\n');
    const local = one('  resourcesPaths: [./res]\n  configFilePath: ./config.yaml');
    expect(local.resourcesPaths).toEqual([join(dir, 'app/.dapr/resources')]);
    expect(local.configFilePath).toBe(join(dir, 'app/.dapr/config.yaml'));
  });

  it('copies common over an app’s zero values (false, 0, ""), but keeps an app’s "" address', () => {
    const a = one(
      '  enableAppHealthCheck: true\n  logLevel: debug\n  placementHostAddress: place',
      '    enableAppHealthCheck: false\n    logLevel: info\n    placementHostAddress: ""\n',
    );
    expect(a.enableAppHealthCheck).toBe(true);
    expect(a.logLevel).toBe('info');
    expect(flag(a, '--placement-host-address')).toBeUndefined();
  });

  it('adds mTLS with the CLI’s sentry address when the Configuration enables it', () => {
    const args = daprdArgs(one('  configFilePath: ./mtls.yaml'), '1.18.3');
    expect(args.slice(-3)).toEqual(['--enable-mtls', '--sentry-address', 'localhost:50001']);
  });

  it('passes the app channel address only when it is not 127.0.0.1, and free-port apps get no port variables', () => {
    expect(
      flag(one('  logLevel: info', '    appChannelAddress: 127.0.0.1\n'), '--app-channel-address'),
    ).toBeUndefined();
    expect(flag(one('  logLevel: info', '    appChannelAddress: 10.0.0.1\n'), '--app-channel-address')).toBe(
      '10.0.0.1',
    );
    const env = appInvocation({ ...one('  logLevel: info', '    command: [x]\n'), appPort: -1 }, { env: {} }).env;
    expect(Object.keys(env).filter((k) => k.endsWith('PORT'))).toEqual([]);
  });

  it('lets the run file env win over the derived variables and the shell’s, and keeps a DAPR_HOST_IP given', () => {
    const a = one('  env: { APP_PORT: "1", X: common, Y: common }', '    env: { Y: app }\n    command: [x]\n');
    expect(appInvocation(a, { env: { X: 'shell', Z: 'shell' } }).env).toMatchObject({
      APP_PORT: '1',
      X: 'common',
      Y: 'app',
      Z: 'shell',
    });
    expect(daprdInvocation(a, { env: { DAPR_HOST_IP: '10.1.1.1' } }).env).toEqual({ DAPR_HOST_IP: '10.1.1.1' });
  });

  it('refuses what the CLI would silently ignore: unknown fields, a missing appDirPath or path', () => {
    expect(() => resolveYaml('version: 1\napps:\n  - appDirPath: ./app\n    apPort: 1\n')).toThrow(/apPort/);
    expect(() => resolveYaml('version: 1\napps:\n  - appDirPath: ./nowhere\n')).toThrow(
      /appDirPath: .*nowhere does not exist/,
    );
    expect(() =>
      resolveYaml('version: 1\ncommon:\n  resourcesPaths: [./gone]\napps:\n  - appDirPath: ./app\n'),
    ).toThrow(/resourcesPaths/);
  });
});

describe('choosing a broker and an SQL engine', () => {
  it('swaps the folders in common.resourcesPaths and the apps’ DB settings, nothing else', () => {
    const file = withVariants(readRunFile(join(ROOT, 'dapr.yaml')), ROOT, 'rabbitmq', 'mariadb');
    expect(file.common?.resourcesPaths).toEqual([
      './components/shared',
      './components/brokers/rabbitmq',
      './components/sql/mariadb',
    ]);
    expect(file.common?.env).toMatchObject({ DB_DIALECT: 'mariadb', DB_USER: 'root', DB_PORT: '3306' });
    expect(file.apps).toEqual(readRunFile(join(ROOT, 'dapr.yaml')).apps);
  });
});

describe('watching the Dapr CLI', () => {
  it('recognises the lines that end a run', () => {
    expect(cliFailure('❌  The daprd process exited with error code: exit status 1')).toMatch(/daprd process exited/);
    expect(cliFailure('❌  Error starting Dapr and app ("audit"): exit status 1')).toBeDefined();
    expect(cliFailure('ℹ️  Updating metadata for appPID: 4242')).toBeUndefined();
    expect(cliFailure('== APP - catalog == {"level":30,"msg":"listening"}')).toBeUndefined();
  });
});
