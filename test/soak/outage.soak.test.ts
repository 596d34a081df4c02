/**
 * `npm run test:soak` (not in CI: it lasts the outage plus a few minutes): the audit database unreachable
 * for longer than daprd's exponential back-off would last (15 minutes), while products are created,
 * updated and deleted. Then nothing may be lost and nothing dead-lettered: the delivery retries
 * (components/shared/resiliency.yaml, `deliver`) never give up by themselves.
 *   SOAK_OUTAGE_MINUTES   how long the database stays down (17)
 *   SOAK_CHANGE_EVERY_S   one change every this many seconds during the outage (10)
 */
import { execFileSync } from 'node:child_process';
import { databaseAdmin } from '../../tools/stack';
import { stackPerTest } from '../support/lifecycle';
import { must } from '../support/must';
import { expectAudited, pgCount } from '../support/sql';
import { ThrowawayPostgres } from '../support/throwaway';
import { sleep } from '../support/wait';

const OUTAGE_MINUTES = Number(process.env.SOAK_OUTAGE_MINUTES ?? 17);
const CHANGE_EVERY_S = Number(process.env.SOAK_CHANGE_EVERY_S ?? 10);
const outageMs = OUTAGE_MINUTES * 60_000;

const { start, onCleanup } = stackPerTest('soak');

const say = (message: string) => console.log(`[soak] ${new Date().toISOString()} ${message}`);

describe('soak: a long database outage behind the consumer', () => {
  it(
    `audit database down for ${OUTAGE_MINUTES} minutes: every change audited once, nothing dead-lettered`,
    async () => {
      const pg = await ThrowawayPostgres.create();
      onCleanup(() => pg.destroy());
      await databaseAdmin('postgres', '127.0.0.1', pg.port).ensureDatabase('audit');
      const { stack } = await start({
        appEnv: { audit: { DB_PORT: String(pg.port), DB_NAME: 'audit' } },
        secrets: { 'audit-db-postgresql': `host=127.0.0.1 port=${pg.port} user=postgres dbname=audit sslmode=disable` },
      });
      const api = `${stack.node('catalog').daprUrl}/v1.0/invoke/catalog/method/api/products`;
      const send = async (method: string, path: string, body?: object) => {
        const res = await fetch(`${api}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body && JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
        return text ? (JSON.parse(text) as { id: number }) : undefined;
      };

      pg.stop();
      const outageStarted = Date.now();
      say(`audit database stopped; changing products every ${CHANGE_EVERY_S} s for ${OUTAGE_MINUTES} minutes`);
      const counts = { 'product.created': 0, 'product.updated': 0, 'product.deleted': 0 };
      // Cycles of five changes: three creates, an update of the cycle's first product and a delete of its
      // second, so every event type waits out the outage, each about a product of its own.
      let cycle: number[] = [];
      for (let i = 0; Date.now() - outageStarted < outageMs; i++) {
        const step = i % 5;
        if (step === 0) cycle = [];
        if (step === 3) {
          await send('PUT', `/${cycle[0]}`, { id: cycle[0], name: `Soak ${i}`, type: 'Soak', price: i });
          counts['product.updated']++;
        } else if (step === 4) {
          await send('DELETE', `/${cycle[1]}`);
          counts['product.deleted']++;
        } else {
          cycle.push(
            must(await send('POST', '', { name: `Soak ${i}`, type: 'Soak', price: i }), 'the product made').id,
          );
          counts['product.created']++;
        }
        await sleep(CHANGE_EVERY_S * 1000);
      }
      pg.start();
      const restarted = Date.now();
      say(
        `audit database back after ${((restarted - outageStarted) / 60_000).toFixed(1)} minutes; ${JSON.stringify(counts)}`,
      );

      await expectAudited('audit', counts, outageMs, pg.port);
      say(`every change audited ${((Date.now() - restarted) / 1000).toFixed(1)} s after the database came back`);
      expect(await pgCount('audit', 'SELECT count(*) AS n FROM dead_letters', [], pg.port)).toBe(0);
      const deadLetterTopic = Number(execFileSync('redis-cli', ['XLEN', `${stack.topic}-deadletter`]).toString());
      expect(deadLetterTopic).toBe(0);
      const lastAttempts = execFileSync('grep', ['-c', 'asking for redelivery', stack.logOf('audit')])
        .toString()
        .trim();
      say(
        `dead letters: 0 in the table, 0 on ${stack.topic}-deadletter; RETRY answers logged by the audit app: ${lastAttempts}`,
      );
    },
    outageMs * 3 + 600_000,
  );
});
