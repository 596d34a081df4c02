import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { materializeResources } from './resources';

type Doc = { kind: string; metadata: { name: string }; spec: { type?: string; topic?: string; deadLetterTopic?: string; metadata?: { name: string; value?: string }[]; nameResolution?: { configuration: { connectionString: string } } } };

function load(dir: string): Doc[] {
  return readdirSync(dir).flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Doc));
}

describe('component sets', () => {
  let out: string;
  beforeEach(() => (out = mkdtempSync(join(tmpdir(), 'pdm-res-'))));
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  const component = (docs: Doc[], name: string) => docs.filter((d) => d.kind === 'Component' && d.metadata.name === name);

  it('uses the default Redis pub/sub and PostgreSQL binding as committed', () => {
    const set = materializeResources({ broker: 'redis', sql: 'postgres', outDir: out, nameResolutionFile: '/x/nr.db' });
    const docs = load(set.resourcesDir);
    expect(component(docs, 'pubsub').map((d) => d.spec.type)).toEqual(['pubsub.redis']);
    expect(component(docs, 'audit-db').map((d) => d.spec.type)).toEqual(['bindings.postgresql']);
    expect(docs.filter((d) => d.kind === 'Subscription')).toHaveLength(2);
    expect(docs.filter((d) => d.kind === 'Resiliency')).toHaveLength(1);
  });

  it.each([
    ['rabbitmq', 'mariadb', 'pubsub.rabbitmq', 'bindings.mysql'],
    ['mqtt', 'postgres', 'pubsub.mqtt3', 'bindings.postgresql'],
    ['jetstream', 'mariadb', 'pubsub.jetstream', 'bindings.mysql'],
  ] as const)('swaps in %s and %s under the same component names', (broker, sql, pubsubType, bindingType) => {
    const docs = load(materializeResources({ broker, sql, outDir: out, nameResolutionFile: '/x/nr.db' }).resourcesDir);
    expect(component(docs, 'pubsub').map((d) => d.spec.type)).toEqual([pubsubType]);
    expect(component(docs, 'audit-db').map((d) => d.spec.type)).toEqual([bindingType]);
  });

  it('points the secret store at the run’s secrets, retargets the topic and sets metadata overrides', () => {
    const set = materializeResources({
      broker: 'redis',
      sql: 'postgres',
      outDir: out,
      nameResolutionFile: '/x/nr.db',
      secrets: { 'audit-db-postgresql': 'host=h dbname=d' },
      topic: 'products-run1',
      metadata: { pubsub: { redisHost: '127.0.0.1:7777' } },
    });
    const docs = load(set.resourcesDir);
    const store = component(docs, 'local-secrets')[0]!;
    expect(store.spec.metadata).toContainEqual({ name: 'secretsFile', value: join(out, 'secrets.json') });
    expect(JSON.parse(readFileSync(join(out, 'secrets.json'), 'utf8'))).toEqual({ 'audit-db-postgresql': 'host=h dbname=d' });
    expect(component(docs, 'pubsub')[0]!.spec.metadata).toContainEqual({ name: 'redisHost', value: '127.0.0.1:7777' });
    const subs = docs.filter((d) => d.kind === 'Subscription').map((d) => [d.spec.topic, d.spec.deadLetterTopic]);
    expect(subs).toEqual(expect.arrayContaining([['products-run1', 'products-run1-deadletter'], ['products-run1-deadletter', undefined]]));
    const config = parseAllDocuments(readFileSync(set.configFile, 'utf8'))[0]!.toJS() as Doc;
    expect(config.spec.nameResolution!.configuration.connectionString).toBe('/x/nr.db');
  });
});
