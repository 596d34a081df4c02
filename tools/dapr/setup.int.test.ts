import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../stack';
import { waitUntil } from '../../test/support/wait';
import { DAPR_RUNTIME_VERSION, daprHome, PROJECT_ROOT } from './versions';

const paths = daprHome();

/** The runtime `npm run setup` provided (npm install and npm test run it): the pinned daprd, usable as is. */
describe('project-local Dapr runtime', () => {
  it("is the pinned version, where the run file's runtimePath points", () => {
    expect(execFileSync(paths.daprd, ['--version']).toString().trim()).toBe(DAPR_RUNTIME_VERSION);
  });

  it('is not rebuilt or replaced by a second setup run', () => {
    const before = statSync(paths.daprd).mtimeMs;
    const out = execFileSync('npx', ['tsx', 'tools/dapr/setup.ts'], { cwd: PROJECT_ROOT }).toString();
    expect(out).toContain(`daprd ${DAPR_RUNTIME_VERSION} ready`);
    expect(out).not.toMatch(/go build|downloading/);
    expect(statSync(paths.daprd).mtimeMs).toBe(before);
  });

  it('starts a sidecar that loads a Redis pub/sub and a PostgreSQL binding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdm-daprd-'));
    writeFileSync(
      join(dir, 'components.yaml'),
      [
        'apiVersion: dapr.io/v1alpha1',
        'kind: Component',
        'metadata: { name: events }',
        'spec:',
        '  type: pubsub.redis',
        '  version: v1',
        '  metadata: [{ name: redisHost, value: "127.0.0.1:6379" }]',
        '---',
        'apiVersion: dapr.io/v1alpha1',
        'kind: Component',
        'metadata: { name: sql }',
        'spec:',
        '  type: bindings.postgresql',
        '  version: v1',
        '  metadata: [{ name: connectionString, value: "host=127.0.0.1 port=5432 user=postgres dbname=postgres" }]',
      ].join('\n'),
    );
    const [http, grpc, internal, metrics] = await freePorts(4);
    const daprd = spawn(
      paths.daprd,
      [
        '--app-id',
        'setup-check',
        '--resources-path',
        dir,
        '--dapr-http-port',
        `${http}`,
        '--dapr-grpc-port',
        `${grpc}`,
        '--dapr-internal-grpc-port',
        `${internal}`,
        '--metrics-port',
        `${metrics}`,
        '--dapr-listen-addresses',
        '127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    try {
      await waitUntil('daprd /v1.0/healthz to answer 204', async () =>
        (await fetch(`http://127.0.0.1:${http}/v1.0/healthz`)).status === 204 ? true : undefined,
      );
      const metadata = (await (await fetch(`http://127.0.0.1:${http}/v1.0/metadata`)).json()) as {
        runtimeVersion: string;
        components: { name: string; type: string }[];
      };
      expect(metadata.runtimeVersion).toBe(DAPR_RUNTIME_VERSION);
      expect(metadata.components).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'events', type: 'pubsub.redis' }),
          expect.objectContaining({ name: 'sql', type: 'bindings.postgresql' }),
        ]),
      );
    } finally {
      daprd.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
