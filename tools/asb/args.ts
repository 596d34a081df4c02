import { parseArgs as tokenize } from 'node:util';
import { DEFAULT_PLAN_OPTIONS, isoDurationSeconds, PlanOptions } from './provision';

export type Command = 'provision' | 'dlq:peek' | 'dlq:replay' | 'help';

export interface ParsedArgs {
  command: Command;
  plan: PlanOptions;
  /** dlq:*: the topic whose subscription's dead-letter queue to read. */
  topic: string;
  /** dlq:*: the subscription (app id). */
  subscription: string;
  /** dlq:*: at most this many messages. */
  max: number;
  dryRun: boolean;
  json: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage: npm run asb -- <command> [options]

commands
  provision    create (or update) the topics and subscriptions the Dapr pub/sub component uses, so the
               sidecars need no Manage rights (disableEntityManagement: "true"); idempotent
                 --topic <name>               topic the catalog publishes to (default ${DEFAULT_PLAN_OPTIONS.topic})
                 --deadletter-topic <name>    Dapr dead-letter topic (default <topic>-deadletter)
                 --subscription <name>        the consuming app id (default ${DEFAULT_PLAN_OPTIONS.subscription})
                 --max-delivery-count <n>     (default ${DEFAULT_PLAN_OPTIONS.maxDeliveryCount})
                 --lock-duration <ISO 8601>   (default ${DEFAULT_PLAN_OPTIONS.lockDuration}, at most PT5M)
                 --message-ttl <ISO 8601>     (default ${DEFAULT_PLAN_OPTIONS.messageTimeToLive})
                 --dry-run                    report what would change, change nothing
  dlq:peek     show messages in a subscription's Service Bus dead-letter queue, without removing them
  dlq:replay   send them back to the topic and remove them from the dead-letter queue
                 --topic <name>               (default ${DEFAULT_PLAN_OPTIONS.topic})
                 --subscription <name>        (default ${DEFAULT_PLAN_OPTIONS.subscription})
                 --max <n>                    at most n messages (default 100)
                 --json                       dlq:peek: one JSON document instead of text
                 --dry-run                    dlq:replay: only peek at what would be replayed

credentials (environment)
  SERVICEBUS_CONNECTION_STRING, or SERVICEBUS_NAMESPACE with DefaultAzureCredential (az login)`;

const COMMANDS: Command[] = ['provision', 'dlq:peek', 'dlq:replay', 'help'];
const ENTITY_NAME = /^[A-Za-z0-9][\w.-]{0,259}$/;

/** Each option, its type for node's parser, and the commands it applies to. */
const OPTIONS: Record<string, { type: 'string' | 'boolean'; commands: Command[] }> = {
  topic: { type: 'string', commands: ['provision', 'dlq:peek', 'dlq:replay'] },
  'deadletter-topic': { type: 'string', commands: ['provision'] },
  subscription: { type: 'string', commands: ['provision', 'dlq:peek', 'dlq:replay'] },
  'max-delivery-count': { type: 'string', commands: ['provision'] },
  'lock-duration': { type: 'string', commands: ['provision'] },
  'message-ttl': { type: 'string', commands: ['provision'] },
  max: { type: 'string', commands: ['dlq:peek', 'dlq:replay'] },
  'dry-run': { type: 'boolean', commands: ['provision', 'dlq:replay'] },
  json: { type: 'boolean', commands: ['dlq:peek'] },
  help: { type: 'boolean', commands: [...COMMANDS] },
};

/**
 * The given options, tokenised by node:util's parseArgs (`--name value`, `--name=value`, `-h`); what it
 * leaves to the caller, checked here: options of another command, repeats, values on flags.
 */
function givenOptions(command: Command, args: string[]): Map<string, string | true> {
  const { tokens } = tokenize({
    args,
    options: {
      ...Object.fromEntries(Object.entries(OPTIONS).map(([name, o]) => [name, { type: o.type }])),
      help: { type: 'boolean', short: 'h' },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const given = new Map<string, string | true>();
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`unexpected argument "${token.value}"`);
    if (token.kind !== 'option') continue;
    const name = `--${token.name}`;
    const spec = OPTIONS[token.name];
    if (!spec) throw new UsageError(`unknown option ${token.rawName}`);
    if (!spec.commands.includes(command)) throw new UsageError(`${name} does not apply to ${command}`);
    if (given.has(name)) throw new UsageError(`${name} is given twice`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${name} takes no value`);
      given.set(name, true);
    } else {
      // An option right after one that takes a value is the user forgetting the value, not the value.
      if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))
        throw new UsageError(`${name} needs a value`);
      given.set(name, token.value);
    }
  }
  return given;
}

function positiveInt(option: string, raw: string, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new UsageError(`${option} must be an integer from 1 to ${max}, not "${raw}"`);
  return Number(raw);
}

function entity(option: string, raw: string): string {
  if (!ENTITY_NAME.test(raw)) throw new UsageError(`${option} "${raw}" is not a Service Bus entity name`);
  return raw;
}

function duration(option: string, raw: string, maxSeconds?: number): string {
  let seconds: number;
  try {
    seconds = isoDurationSeconds(raw);
  } catch {
    throw new UsageError(`${option} must be an ISO 8601 duration such as PT1M or P14D, not "${raw}"`);
  }
  if (seconds <= 0 || (maxSeconds !== undefined && seconds > maxSeconds)) {
    throw new UsageError(`${option} must be more than 0${maxSeconds ? ` and at most ${maxSeconds} seconds` : ''}`);
  }
  return raw;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { ...defaults(), command: 'help' };
  if (!COMMANDS.includes(first as Command))
    throw new UsageError(`unknown command "${first}" (one of: ${COMMANDS.join(', ')})`);
  const command = first as Command;
  const given = givenOptions(command, rest);
  if (given.has('--help')) return { ...defaults(), command: 'help' };
  /** The value of option `name` read by `parse`, or `fallback` when it is not given. */
  const option = <T>(name: string, parse: (name: string, raw: string) => T, fallback: T): T => {
    const raw = given.get(name);
    return typeof raw === 'string' ? parse(name, raw) : fallback;
  };
  const topic = option('--topic', entity, DEFAULT_PLAN_OPTIONS.topic);
  const subscription = option('--subscription', entity, DEFAULT_PLAN_OPTIONS.subscription);
  const plan: PlanOptions = {
    topic,
    deadLetterTopic: option('--deadletter-topic', entity, `${topic}-deadletter`),
    subscription,
    maxDeliveryCount: option(
      '--max-delivery-count',
      (o, raw) => positiveInt(o, raw, 2000),
      DEFAULT_PLAN_OPTIONS.maxDeliveryCount,
    ),
    lockDuration: option('--lock-duration', (o, raw) => duration(o, raw, 300), DEFAULT_PLAN_OPTIONS.lockDuration),
    messageTimeToLive: option('--message-ttl', (o, raw) => duration(o, raw), DEFAULT_PLAN_OPTIONS.messageTimeToLive),
  };
  if (plan.deadLetterTopic === plan.topic) throw new UsageError('--deadletter-topic must differ from --topic');
  return {
    command,
    plan,
    topic,
    subscription,
    max: option('--max', (o, raw) => positiveInt(o, raw, 100_000), 100),
    dryRun: given.has('--dry-run'),
    json: given.has('--json'),
  };
}

function defaults(): Omit<ParsedArgs, 'command'> {
  return {
    plan: { ...DEFAULT_PLAN_OPTIONS },
    topic: DEFAULT_PLAN_OPTIONS.topic,
    subscription: DEFAULT_PLAN_OPTIONS.subscription,
    max: 100,
    dryRun: false,
    json: false,
  };
}
