import { DataTypes } from 'sequelize';
import type { Migration } from '@portable-dapr/common';

export const createAuditLogs: Migration = {
  name: '0001-create-audit-logs',
  async up(qi) {
    await qi.createTable('audit_logs', {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      time_stamp: { type: DataTypes.DATE(3), allowNull: false },
      log_message: { type: DataTypes.STRING(1000), allowNull: false },
      event_id: { type: DataTypes.STRING(64), allowNull: false, unique: true },
      event_type: { type: DataTypes.STRING(64), allowNull: false },
      source: { type: DataTypes.STRING(128), allowNull: false },
      subject_id: { type: DataTypes.INTEGER, allowNull: true },
      payload: { type: DataTypes.TEXT, allowNull: true },
      recorded_at: { type: DataTypes.DATE(3), allowNull: false },
    });
    await qi.addIndex('audit_logs', ['subject_id'], { name: 'audit_logs_subject' });
    await qi.addIndex('audit_logs', ['time_stamp'], { name: 'audit_logs_time' });
  },
  async down(qi) {
    await qi.dropTable('audit_logs');
  },
};
