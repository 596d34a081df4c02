import pino from 'pino';
import type { Sequelize } from 'sequelize';
import { migrate } from '@portable-dapr/common';
import { connectTestDatabase, createTestDatabases } from '../../test/support/databases';
import { migrations } from '../src/migrations';
import { AuditModels, initModels } from '../src/models';
import { SequelizeSink } from '../src/sinks/sequelize-sink';
import { SinkError } from '../src/sinks/audit-sink';

const logger = pino({ level: 'silent' });
const row = (eventId: string, logMessage = 'Product Added. Name - Pen, Type - Office, Price - 2.5') => ({
  eventId,
  eventType: 'product.created',
  source: 'catalog',
  subjectId: 7,
  timeStamp: new Date('2026-01-02T03:04:05.678Z'),
  logMessage,
  payload: '{"x":1}',
});

/** The direct write path (AUDIT_SINK=sequelize, the Azure SQL path) on the engines this machine runs. */
describe.each(['postgres', 'mariadb'] as const)('Sequelize sink on %s', (engine) => {
  let sequelize: Sequelize;
  let models: AuditModels;
  let drop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    const dbs = await createTestDatabases(engine, ['audit'], 'sink');
    drop = dbs.drop;
    sequelize = connectTestDatabase(engine, dbs.names.audit, 4);
    await migrate(sequelize, migrations, logger);
    models = initModels(sequelize);
  });

  afterAll(async () => {
    await sequelize.close();
    await drop();
  });

  it('inserts a batch and skips event ids it already has', async () => {
    const sink = new SequelizeSink(models);
    await sink.insertAuditLogs([row('a'), row('b')]);
    await sink.insertAuditLogs([row('b'), row('c')]);
    const rows = await models.AuditLog.findAll({ order: [['id', 'ASC']] });
    expect(rows.map((r) => r.eventId)).toEqual(['a', 'b', 'c']);
    expect(rows[0]?.toDto()).toMatchObject({ timeStamp: '2026-01-02T03:04:05.678Z', subjectId: 7, payload: { x: 1 } });
  });

  it('keeps one dead letter per message id', async () => {
    const sink = new SequelizeSink(models);
    const dl = {
      messageId: 'm1',
      topic: 't',
      receivedAt: new Date(),
      reason: 'bad',
      payload: '{}',
      payloadEncoding: 'utf8' as const,
    };
    await sink.insertDeadLetter(dl);
    await sink.insertDeadLetter(dl);
    expect(await models.DeadLetter.count()).toBe(1);
  });

  it('reports data the database refuses as a non-transient error', async () => {
    const sink = new SequelizeSink(models);
    await expect(sink.insertAuditLogs([row('long', 'x'.repeat(5_000))])).rejects.toMatchObject({ transient: false });
    await expect(sink.insertAuditLogs([row('long', 'x'.repeat(5_000))])).rejects.toBeInstanceOf(SinkError);
  });
});
