import { DataTypes } from 'sequelize';
import type { Migration } from '@portable-dapr/common';

export const createOutboxEvents: Migration = {
  name: '0002-create-outbox-events',
  async up(qi) {
    await qi.createTable('outbox_events', {
      seq: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
      event_id: { type: DataTypes.STRING(36), allowNull: false, unique: true },
      event_type: { type: DataTypes.STRING(40), allowNull: false },
      subject_id: { type: DataTypes.INTEGER, allowNull: false },
      payload: { type: DataTypes.TEXT, allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false },
      published_at: { type: DataTypes.DATE, allowNull: true },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      last_error: { type: DataTypes.STRING(1000), allowNull: true },
    });
    // The relay's scan: unpublished rows in insertion order.
    await qi.addIndex('outbox_events', ['published_at', 'seq'], { name: 'outbox_events_pending' });
  },
  async down(qi) {
    await qi.dropTable('outbox_events');
  },
};
