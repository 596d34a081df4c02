import { DataTypes } from 'sequelize';
import type { Migration } from '@portable-dapr/common';

/**
 * Claims instead of row locks held across the publish (outbox/claims.ts): which relay holds an event and
 * until when, and an index for the relay's per-product check of earlier unpublished events.
 */
export const addOutboxClaims: Migration = {
  name: '0003-outbox-claims',
  async up(qi) {
    await qi.addColumn('outbox_events', 'claimed_by', { type: DataTypes.STRING(36), allowNull: true });
    await qi.addColumn('outbox_events', 'claimed_until', { type: DataTypes.DATE, allowNull: true });
    await qi.addIndex('outbox_events', ['subject_id', 'seq'], { name: 'outbox_events_subject' });
  },
  async down(qi) {
    await qi.removeIndex('outbox_events', 'outbox_events_subject');
    await qi.removeColumn('outbox_events', 'claimed_until');
    await qi.removeColumn('outbox_events', 'claimed_by');
  },
};
