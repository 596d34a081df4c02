import { randomBytes } from 'node:crypto';
import { databaseAdmin } from '../../tools/stack/infra';
import type { SqlEngine } from '../../tools/stack/variants';

/** A short id for names that must not collide between runs: databases, topics, app ids. */
export const runId = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** Fresh databases on the machine's server for one test file, dropped by `drop()`. */
export async function createTestDatabases<K extends string>(
  engine: SqlEngine,
  keys: K[],
  prefix = 't',
): Promise<{ names: Record<K, string>; drop: () => Promise<void> }> {
  const admin = databaseAdmin(engine);
  const id = runId();
  const names = Object.fromEntries(keys.map((k) => [k, `${prefix}_${id}_${k}`])) as Record<K, string>;
  for (const name of Object.values<string>(names)) await admin.ensureDatabase(name);
  return {
    names,
    drop: async () => void (await Promise.all(Object.values<string>(names).map((n) => admin.dropDatabase(n)))),
  };
}
