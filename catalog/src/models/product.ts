import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

export const NAME_MAX = 100;
export const TYPE_MAX = 50;

export class Product extends Model<InferAttributes<Product>, InferCreationAttributes<Product>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare type: string;
  declare price: number;

  /** The API's JSON shape, kept field for field so existing clients keep working. */
  toDto(): ProductDto {
    return { id: this.id, name: this.name, type: this.type, price: this.price };
  }
}

export interface ProductDto {
  id: number;
  name: string;
  type: string;
  price: number;
}

export function initProduct(sequelize: Sequelize): typeof Product {
  // A subclass per connection: two Sequelize instances in one process (tests, two relays) never share a binding.
  return class extends Product {}.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(NAME_MAX), allowNull: false },
      type: { type: DataTypes.STRING(TYPE_MAX), allowNull: false },
      // DOUBLE comes back as a string from some drivers; the getter keeps the JSON a number.
      price: {
        type: DataTypes.DOUBLE,
        allowNull: false,
        get(this: Product) {
          return Number(this.getDataValue('price'));
        },
      },
    },
    { sequelize, modelName: 'Product', tableName: 'products', timestamps: false },
  );
}
