import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SQL_VARIANTS, SQL_ENGINES } from './variants';

/**
 * What a local run reads besides the committed files: the secret store's file and the databases. The
 * components name them relative to the app's folder (../.dapr/secrets.json), so a run rooted at `root`
 * (the repository, or a test stack's own folder) keeps them in <root>/.dapr.
 */
export const secretsFileOf = (root: string) => join(root, '.dapr', 'secrets.json');

/** The RabbitMQ variant's connection: the broker's well-known local default account, not a credential. */
const RABBITMQ_LOCAL = 'amqp://guest:guest@127.0.0.1:5672';

/** The secrets the local components refer to, for an audit database of that name on each engine. */
export function localSecrets(auditDatabase: string): Record<string, string> {
  const bindings = Object.fromEntries(
    SQL_ENGINES.map((e) => [SQL_VARIANTS[e].bindingSecret, SQL_VARIANTS[e].bindingConnection(auditDatabase)]),
  );
  return { ...bindings, 'pubsub-rabbitmq': RABBITMQ_LOCAL };
}

/**
 * Writes the secrets file. With `keepExisting`, values already in the file win (a user may have edited
 * them) and only missing keys are added. The file is replaced in one rename, so a concurrent reader or
 * writer never sees half of it. Returns the keys it added.
 */
export function writeSecretsFile(
  file: string,
  secrets: Record<string, string>,
  { keepExisting = false } = {},
): string[] {
  const current =
    keepExisting && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const added = Object.keys(secrets).filter((k) => !(k in current));
  if (keepExisting && existsSync(file) && added.length === 0) return [];
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ ...secrets, ...current }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return added;
}
