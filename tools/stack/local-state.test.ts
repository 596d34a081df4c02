import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSecrets, writeSecretsFile } from './local-state';

describe('the local secret store file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pdm-secrets-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds a connection for every binding variant and the RabbitMQ broker, for the audit database named', () => {
    expect(localSecrets('audit_x')).toEqual({
      'audit-db-postgresql': 'host=127.0.0.1 port=5432 user=postgres dbname=audit_x sslmode=disable',
      'audit-db-mysql': 'root:@tcp(127.0.0.1:3306)/audit_x?parseTime=true&loc=UTC',
      'pubsub-rabbitmq': 'amqp://guest:guest@127.0.0.1:5672',
    });
  });

  it('is created readable by its owner only, and later runs add missing keys without touching edited values', () => {
    const file = join(dir, '.dapr', 'secrets.json');
    expect(writeSecretsFile(file, { a: '1', b: '2' }, { keepExisting: true })).toEqual(['a', 'b']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, JSON.stringify({ a: 'edited' }));
    expect(writeSecretsFile(file, { a: '1', b: '2', c: '3' }, { keepExisting: true })).toEqual(['b', 'c']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ a: 'edited', b: '2', c: '3' });
    expect(writeSecretsFile(file, { a: '1' }, { keepExisting: true })).toEqual([]);
  });
});
