import { CreationOptional, DataTypes, InferAttributes, InferCreationAttributes, Model, Sequelize } from 'sequelize';

/** A message the event route refused (DROP) or Dapr could not deliver, kept for inspection and replay. */
export class DeadLetter extends Model<InferAttributes<DeadLetter>, InferCreationAttributes<DeadLetter>> {
  declare id: CreationOptional<number>;
  /** The dead-lettered message's CloudEvent id (or a hash of its bytes); unique, so redelivery keeps one. */
  declare messageId: string;
  declare topic: string;
  declare receivedAt: Date;
  /** Why the event route refused it, as far as it can be told again. */
  declare reason: string;
  /** The message as received: its text, or base64 of its bytes when they are not storable text. */
  declare payload: string;
  declare payloadEncoding: 'utf8' | 'base64';

  toDto(): DeadLetterDto {
    return {
      id: this.id,
      messageId: this.messageId,
      topic: this.topic,
      receivedAt: this.receivedAt.toISOString(),
      reason: this.reason,
      payload: this.payload,
      payloadEncoding: this.payloadEncoding,
    };
  }
}

export function initDeadLetter(sequelize: Sequelize): typeof DeadLetter {
  // A subclass per connection: two Sequelize instances in one process (tests, two relays) never share a binding.
  return class extends DeadLetter {}.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      messageId: { type: DataTypes.STRING(128), allowNull: false, unique: true },
      topic: { type: DataTypes.STRING(255), allowNull: false },
      receivedAt: { type: DataTypes.DATE(3), allowNull: false },
      reason: { type: DataTypes.STRING(1000), allowNull: false },
      payload: { type: DataTypes.TEXT, allowNull: false },
      payloadEncoding: { type: DataTypes.STRING(10), allowNull: false, defaultValue: 'utf8' },
    },
    { sequelize, modelName: 'DeadLetter', tableName: 'dead_letters', timestamps: false, underscored: true },
  );
}

export interface DeadLetterDto {
  id: number;
  messageId: string;
  topic: string;
  receivedAt: string;
  reason: string;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
}
