import { DataTypes } from 'sequelize';
import type { Migration } from '@portable-dapr/common';

export const createDeadLetters: Migration = {
  name: '0002-create-dead-letters',
  async up(qi) {
    await qi.createTable('dead_letters', {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      message_id: { type: DataTypes.STRING(128), allowNull: false, unique: true },
      topic: { type: DataTypes.STRING(255), allowNull: false },
      received_at: { type: DataTypes.DATE(3), allowNull: false },
      reason: { type: DataTypes.STRING(1000), allowNull: false },
      payload: { type: DataTypes.TEXT, allowNull: false },
      payload_encoding: { type: DataTypes.STRING(10), allowNull: false, defaultValue: 'utf8' },
    });
  },
  async down(qi) {
    await qi.dropTable('dead_letters');
  },
};
