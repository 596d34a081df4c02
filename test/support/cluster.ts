/**
 * What the tests add to the local cluster (tools/cluster) to run k8s/overlays/local on it: the Secrets of
 * its prerequisites with random values, and a PostgreSQL and a Redis of the test's own, inside the node's
 * network on the node's address, where test/k8s/local-cluster's EndpointSlices point (the official
 * images the overlay runs otherwise cannot be pulled here).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NODE } from '../../tools/cluster/layout';
import type { ClusterNode } from '../../tools/cluster/node';
import { loadPrerequisites } from '../../tools/validate/load';

const repoRoot = resolve(__dirname, '..', '..');
export const LOCAL_OVERLAY = join(repoRoot, 'k8s', 'overlays', 'local');
export const TEST_OVERLAY = join(repoRoot, 'test', 'k8s', 'local-cluster');
export const APP_NAMESPACE = 'portable-dapr';

/** Every Secret of the overlay's prerequisites, with random values that agree with each other. */
export function overlaySecrets(): Record<string, Record<string, string>> {
  const random = () => randomBytes(18).toString('base64url');
  const secrets = Object.fromEntries(
    loadPrerequisites(LOCAL_OVERLAY).secrets.map((s) => [
      s.name,
      Object.fromEntries((s.keys ?? []).map((k) => [k, random()])),
    ]),
  );
  const auditApp = secretValue(secrets, 'audit-db-credentials', 'password');
  secrets['audit-db-binding'] = {
    connectionString: `host=postgres user=audit_app password=${auditApp} dbname=audit sslmode=disable`,
  };
  return secrets;
}

/** One key of one of the Secrets, or a failure that names it. */
export function secretValue(secrets: Record<string, Record<string, string>>, name: string, key: string): string {
  const value = secrets[name]?.[key];
  if (value === undefined) throw new Error(`the overlay's prerequisites give Secret ${name} no key ${key}`);
  return value;
}

export async function createSecrets(node: ClusterNode, secrets: Record<string, Record<string, string>>) {
  const items = Object.entries(secrets).map(([name, stringData]) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: APP_NAMESPACE },
    stringData,
  }));
  await node.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
}

const postgresBin = (program: string) => {
  const version = readdirSync('/usr/lib/postgresql').sort().at(-1);
  if (!version) throw new Error('no PostgreSQL server installed (apt-get install postgresql)');
  return join('/usr/lib/postgresql', version, 'bin', program);
};

/**
 * `setpriv` to a system user (PostgreSQL refuses to run as root), from `/`: the clone's folder may be
 * one that user cannot enter, and PostgreSQL's programs fail in a working directory they cannot read.
 */
const as = (user: string, command: string, args: string[]): [string, string[]] => [
  'env',
  ['--chdir=/', 'setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', command, ...args],
];

async function insideOk(node: ClusterNode, command: string, args: string[]): Promise<string> {
  const r = await node.inside(command, args);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

/**
 * PostgreSQL on the node's address, its data on the node's tmpfs, with the databases and roles that
 * the overlay's own init script (postgres-init.sh) makes, made by that same script.
 */
export async function startTestPostgres(node: ClusterNode, secrets: Record<string, Record<string, string>>) {
  const data = '/var/lib/test-postgres';
  const superuser = secretValue(secrets, 'postgres-superuser', 'password');
  await insideOk(node, 'sh', ['-c', `install -d -o postgres -g postgres ${data} ${data}-run`]);
  await insideOk(node, 'sh', ['-c', `echo '${superuser}' > ${data}-run/pw && chown postgres ${data}-run/pw`]);
  await insideOk(
    node,
    ...as('postgres', postgresBin('initdb'), [
      `--pgdata=${data}/db`,
      '--username=postgres',
      `--pwfile=${data}-run/pw`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
    ]),
  );
  await insideOk(node, 'sh', ['-c', `echo 'host all all 0.0.0.0/0 scram-sha-256' >> ${data}/db/pg_hba.conf`]);
  const [command, args] = as('postgres', postgresBin('postgres'), [
    `-D${data}/db`,
    `-clisten_addresses=${NODE.ip}`,
    '-cport=5432',
    `-cunix_socket_directories=${data}-run`,
    '-cfsync=off',
  ]);
  node.daemon('test-postgres', command, args);
  const ready = () => node.inside(postgresBin('pg_isready'), ['-h', NODE.ip, '-p', '5432']);
  for (let i = 0; i < 240 && (await ready()).code !== 0; i++) await new Promise((r) => setTimeout(r, 250));
  const env = [
    `PGHOST=${NODE.ip}`,
    `PGPASSWORD=${superuser}`,
    'POSTGRES_USER=postgres',
    `CATALOG_OWNER_PASSWORD=${secretValue(secrets, 'catalog-db-owner-credentials', 'password')}`,
    `CATALOG_DB_PASSWORD=${secretValue(secrets, 'catalog-db-credentials', 'password')}`,
    `AUDIT_OWNER_PASSWORD=${secretValue(secrets, 'audit-db-owner-credentials', 'password')}`,
    `AUDIT_DB_PASSWORD=${secretValue(secrets, 'audit-db-credentials', 'password')}`,
  ];
  await insideOk(node, 'env', [...env, 'bash', join(LOCAL_OVERLAY, 'postgres-init.sh')]);
}

/** SQL on the test PostgreSQL as its superuser; rows as tab-separated lines. */
export async function testSql(node: ClusterNode, superuser: string, db: string, sql: string): Promise<string[]> {
  const out = await insideOk(node, 'env', [
    `PGPASSWORD=${superuser}`,
    'psql',
    '-h',
    NODE.ip,
    '-U',
    'postgres',
    '-d',
    db,
    '-AtX',
    '-F',
    '\t',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    sql,
  ]);
  return out.trim() ? out.trim().split('\n') : [];
}

export function startTestRedis(node: ClusterNode, password: string): void {
  const [command, args] = as('redis', 'redis-server', [
    '--bind',
    NODE.ip,
    '--port',
    '6379',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    '/tmp',
    '--requirepass',
    password,
  ]);
  node.daemon('test-redis', command, args);
}
