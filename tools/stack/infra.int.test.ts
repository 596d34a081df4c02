import { runId } from '../../test/support/databases';
import { databaseAdmin } from './infra';
import type { SqlEngine } from './variants';

/** `npm install`, `npm start` and the tests may all create the local databases at the same moment. */
describe.each(['postgres', 'mariadb'] as SqlEngine[])(
  'creating a %s database from several setups at once',
  (engine) => {
    it('creates it exactly once and fails none of them', async () => {
      const admin = databaseAdmin(engine);
      const name = `race_${runId()}`;
      try {
        const created = await Promise.all(Array.from({ length: 6 }, () => databaseAdmin(engine).ensureDatabase(name)));
        expect(created.filter(Boolean)).toHaveLength(1);
        expect(await admin.ensureDatabase(name)).toBe(false);
      } finally {
        await admin.dropDatabase(name);
      }
    });
  },
);
