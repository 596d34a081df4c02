/**
 * The launcher's public entry: what `npm start`, the setup, the tests, the benchmark and the validator use
 * of it. Everything outside tools/stack imports from here; the modules behind it are its own business.
 */
export { CliRun } from './cli-run';
export { databaseAdmin, deleteJetStreamStreams, provisionJetStream, requireReachable } from './infra';
export { localSecrets, secretsFileOf, writeSecretsFile } from './local-state';
export { freePort, freePorts } from './ports';
export { ManagedProcess } from './process';
export { deadLetterTopicOf, DEFAULT_TOPIC } from './resources';
export { loadRunFile, readRunFile, resolveRunFile } from './run-file';
export type { ResolvedApp } from './run-file';
export { Stack, startStack } from './stack';
export type { AppId, StackOptions } from './stack';
export {
  BROKER_VARIANTS,
  BROKERS,
  parseBroker,
  parseSqlEngine,
  SQL_ENGINES,
  SQL_VARIANTS,
  withVariants,
} from './variants';
export type { Broker, SqlEngine } from './variants';
