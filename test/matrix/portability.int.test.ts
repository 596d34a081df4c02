import { execFileSync } from 'node:child_process';
import {
  Broker,
  BROKER_VARIANTS,
  BROKERS,
  deadLetterTopicOf,
  deleteJetStreamStreams,
  provisionJetStream,
  SQL_ENGINES,
  SQL_VARIANTS,
  SqlEngine,
  Stack,
  startStack,
} from '../../tools/stack';
import { formatTable } from '../../tools/table';
import { createTestDatabases, runId } from '../support/databases';
import { changeProducts, productCloudEvent, publishCloudEvent, settledEntries, summarize } from '../support/scenario';
import { waitUntil } from '../support/wait';

/**
 * The same end-to-end scenario on every broker × SQL engine this machine runs. Only the component YAML
 * (and the apps' DB_* settings) differ between pairs; the code and the build are the same.
 */
function reachable(port: number): boolean {
  try {
    execFileSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { stdio: 'ignore', timeout: 3_000 });
    return true;
  } catch {
    return false;
  }
}

/** What a broker cannot honour, printed with the results (see docs/portability.md's broker table). */
const CAVEATS: Record<Broker, string> = {
  redis: '',
  rabbitmq: 'queues exist once audit subscribed: start audit first (npm start does)',
  mqtt: 'no consumer groups (each audit replica gets every message); offline queue capped by the broker (Mosquitto: 1000)',
  jetstream: 'the stream is provisioned outside Dapr (npm start does it)',
};

interface Row {
  pair: string;
  result: string;
  seconds: number;
  note: string;
}
const table: Row[] = [];

function printTable(): void {
  const rows = table.map((r) => [r.pair, r.result, `${r.seconds.toFixed(1)} s`, r.note]);
  process.stdout.write(`\nPortability matrix\n${formatTable(['broker × sql', 'result', 'time', 'notes'], rows)}\n`);
}

afterAll(printTable);

const pairs = BROKERS.flatMap((broker) => SQL_ENGINES.map((sql) => [broker, sql] as [Broker, SqlEngine]));

describe.each(pairs)('%s × %s', (broker, sql) => {
  const missing = [BROKER_VARIANTS[broker].endpoint, SQL_VARIANTS[sql].endpoint].filter((e) => !reachable(e.port));
  if (missing.length) {
    const why = missing
      .map((e) => `${e.service} not reachable on ${e.host}:${e.port} (start: ${e.startHint})`)
      .join('; ');
    // On a developer's machine a pair whose server is down is skipped, with its reason; in CI, which
    // starts every server first, it fails: a matrix that ran nothing must not pass.
    if (process.env.CI) {
      table.push({ pair: `${broker} × ${sql}`, result: 'FAILED', seconds: 0, note: why });
      it('runs the scenario', () => {
        throw new Error(`${broker} × ${sql} cannot run: ${why}`);
      });
      return;
    }
    console.warn(`${broker} × ${sql} skipped: ${why}`);
    table.push({ pair: `${broker} × ${sql}`, result: 'SKIPPED', seconds: 0, note: `skipped: ${why}` });
    it.skip(`runs the scenario (skipped: ${why})`, () => undefined);
    return;
  }

  const id = runId();
  const topic = `products-${id}`;
  let stack: Stack;
  let drop: () => Promise<void>;
  let started = 0;
  const failures: string[] = [];

  beforeAll(async () => {
    started = Date.now();
    if (broker === 'jetstream') await provisionJetStream(topic, `t_${id}`);
    const dbs = await createTestDatabases(sql, ['catalog', 'audit'], 'mx');
    drop = dbs.drop;
    stack = await startStack({
      broker,
      sql,
      ports: 'free',
      databases: dbs.names,
      topic,
      // MQTT client ids must be unique per connection on the broker: keep this run's apart from any other.
      metadata: broker === 'mqtt' ? { pubsub: { consumerID: `{appID}-${id}` } } : undefined,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await drop?.();
    await cleanBroker(broker, id, topic);
    table.push({
      pair: `${broker} × ${sql}`,
      result: failures.length ? 'FAILED' : 'passed',
      seconds: (Date.now() - started) / 1000,
      note: [failures.join('; '), CAVEATS[broker]].filter(Boolean).join(' — '),
    });
  });

  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
      throw err;
    }
  };

  it('turns creates, updates and deletes made through invocation into exactly the expected audit entries', () =>
    step('scenario', async () => {
      const expected = await changeProducts(stack, `-${sql}`);
      expect(summarize(await settledEntries(stack, expected.length))).toEqual(summarize(expected));
    }));

  it('keeps one row when an event is delivered twice', () =>
    step('redelivery', async () => {
      const ce = productCloudEvent(424242, { eventType: 'product.updated', name: 'Twice' });
      const eventId = ce.id;
      await publishCloudEvent(stack, ce);
      await publishCloudEvent(stack, ce);
      const rows = await settledEntries(stack, 1, (e) => e.eventId === eventId);
      expect(rows).toHaveLength(1);
    }));

  it('moves a poison event to the dead letters', () =>
    step('dead letter', async () => {
      const poisonId = `poison-${id}`;
      await publishCloudEvent(stack, {
        specversion: '1.0',
        id: poisonId,
        source: 'catalog',
        type: 'product.created',
        datacontenttype: 'application/json',
        data: { eventType: 'nope' },
      });
      await waitUntil(
        'the dead letter',
        async () => {
          const res = await stack.invoke('audit', 'GET', '/api/deadletters');
          return ((await res.json()) as { messageId: string }[]).some((d) => d.messageId === poisonId)
            ? true
            : undefined;
        },
        30_000,
        200,
      );
    }));
});

describe('a deliberately broken component', () => {
  it('fails its pair with a message that names the component', async () => {
    const dbs = await createTestDatabases('postgres', ['catalog', 'audit'], 'mxb');
    const started = Date.now();
    let message = '';
    try {
      // The Redis pub/sub pointed at a port nothing listens on.
      const stack = await startStack({
        ports: 'free',
        databases: dbs.names,
        topic: `products-${runId()}`,
        metadata: { pubsub: { redisHost: '127.0.0.1:1', dialTimeout: '1s' } },
      });
      await stack.stop();
    } catch (err) {
      message = (err as Error).message;
    } finally {
      await dbs.drop();
    }
    const named = /error occurred for (pubsub) \((pubsub\.redis)\/v1\)/.exec(message);
    table.push({
      pair: 'redis × postgres, pub/sub host broken',
      result: named ? 'FAILED as expected' : 'NOT DETECTED',
      seconds: (Date.now() - started) / 1000,
      note: named ? `daprd: component ${named[1]} (${named[2]}) failed to initialise` : message.slice(0, 200),
    });
    expect(named).not.toBeNull();
  });
});

async function cleanBroker(broker: Broker, id: string, topic: string): Promise<void> {
  try {
    if (broker === 'jetstream') await deleteJetStreamStreams(`t_${id}`);
    if (broker === 'rabbitmq') {
      for (const queue of [`audit-${topic}`, `audit-${deadLetterTopicOf(topic)}`])
        execFileSync('rabbitmqctl', ['delete_queue', queue], { stdio: 'ignore' });
    }
  } catch {
    /* best effort: leftovers hold no messages of other runs */
  }
}
