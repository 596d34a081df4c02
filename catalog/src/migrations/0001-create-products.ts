import { DataTypes } from 'sequelize';
import type { Migration } from '@portable-dapr/common';

export const createProducts: Migration = {
  name: '0001-create-products',
  async up(qi) {
    await qi.createTable('products', {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false },
      type: { type: DataTypes.STRING(50), allowNull: false },
      price: { type: DataTypes.DOUBLE, allowNull: false },
    });
  },
  async down(qi) {
    await qi.dropTable('products');
  },
};
