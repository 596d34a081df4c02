/**
 * npm run asb -- provision | dlq:peek | dlq:replay   (npm run asb -- help)
 *
 * Azure Service Bus operations for the Dapr pub/sub component on AKS: creating the topics and
 * subscriptions daprd uses without Manage rights, and handling the broker's dead-letter queue.
 * Credentials come from the environment (credentials.ts).
 */
import { parseArgs, ParsedArgs, USAGE, UsageError } from './args';
import { Credentials, credentialsFromEnv, CredentialsError, describeCredentials } from './credentials';
import { MessagingClient, peekDeadLetters, replayDeadLetters } from './dlq';
import { AdminClient, buildPlan, provision } from './provision';

export interface Clients {
  admin(): AdminClient;
  messaging(): MessagingClient;
  close(): Promise<void>;
}

export interface Deps {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Builds the SDK clients; tests pass fakes, the default uses @azure/service-bus and @azure/identity. */
  connect: (credentials: Credentials) => Promise<Clients>;
}

/** The real clients, loaded only when a command runs (help and usage errors need no SDK). */
export async function connectToServiceBus(credentials: Credentials): Promise<Clients> {
  const { ServiceBusAdministrationClient, ServiceBusClient } = await import('@azure/service-bus');
  let admin: InstanceType<typeof ServiceBusAdministrationClient>;
  let client: InstanceType<typeof ServiceBusClient>;
  if (credentials.kind === 'connection-string') {
    admin = new ServiceBusAdministrationClient(credentials.connectionString);
    client = new ServiceBusClient(credentials.connectionString);
  } else {
    const { DefaultAzureCredential } = await import('@azure/identity');
    const credential = new DefaultAzureCredential();
    admin = new ServiceBusAdministrationClient(credentials.fullyQualifiedNamespace, credential);
    client = new ServiceBusClient(credentials.fullyQualifiedNamespace, credential);
  }
  return {
    admin: () => admin,
    messaging: () => ({
      createReceiver: (topic, subscription, options) => client.createReceiver(topic, subscription, options),
      createSender: (topic) => client.createSender(topic),
    }),
    close: () => client.close(),
  };
}

async function run(args: ParsedArgs, clients: Clients, out: (line: string) => void): Promise<number> {
  switch (args.command) {
    case 'provision': {
      const actions = await provision(clients.admin(), buildPlan(args.plan), { dryRun: args.dryRun });
      for (const a of actions)
        out(`${a.action.padEnd(12)} ${a.entity}${a.changes ? ` (${a.changes.join('; ')})` : ''}`);
      out(
        args.dryRun
          ? 'dry run: nothing changed'
          : 'Service Bus entities are in place for the Dapr pub/sub component (disableEntityManagement: "true")',
      );
      return 0;
    }
    case 'dlq:peek': {
      const messages = await peekDeadLetters(clients.messaging(), args.topic, args.subscription, args.max);
      if (args.json) {
        out(JSON.stringify({ topic: args.topic, subscription: args.subscription, messages }, null, 2));
        return 0;
      }
      out(
        `${messages.length} message(s) in the dead-letter queue of ${args.topic}/${args.subscription}${messages.length === args.max ? ` (first ${args.max}; --max for more)` : ''}`,
      );
      for (const m of messages) {
        out(
          `- #${m.sequenceNumber ?? '?'} id=${m.messageId ?? '?'} enqueued=${m.enqueuedTime ?? '?'} deliveries=${m.deliveryCount ?? '?'}`,
        );
        out(
          `  reason: ${m.deadLetterReason ?? '(none)'}${m.deadLetterErrorDescription ? ` - ${m.deadLetterErrorDescription}` : ''}`,
        );
        out(`  body (${m.contentType ?? 'no content type'}): ${m.body}`);
      }
      return 0;
    }
    case 'dlq:replay': {
      if (args.dryRun) {
        const messages = await peekDeadLetters(clients.messaging(), args.topic, args.subscription, args.max);
        out(
          `dry run: would replay ${messages.length} message(s) from the dead-letter queue of ${args.topic}/${args.subscription} to topic ${args.topic}`,
        );
        for (const m of messages) out(`- id=${m.messageId ?? '?'} reason=${m.deadLetterReason ?? '(none)'}`);
        return 0;
      }
      const result = await replayDeadLetters(clients.messaging(), args.topic, args.subscription, args.max, out);
      out(`replayed ${result.replayed} message(s) to topic ${args.topic}`);
      for (const f of result.failed) out(`failed ${f.messageId ?? '?'}: ${f.error} (left in the dead-letter queue)`);
      return result.failed.length ? 1 : 0;
    }
    default:
      out(USAGE);
      return 0;
  }
}

/** Runs one command; returns the exit code (0 done, 1 failed, 2 usage or credentials problem). */
export async function main(argv: string[], deps: Partial<Deps> = {}): Promise<number> {
  const { env = process.env, out = console.log, err = console.error, connect = connectToServiceBus } = deps;
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`error: ${e.message}`);
    err(USAGE);
    return 2;
  }
  if (args.command === 'help') {
    out(USAGE);
    return 0;
  }
  let credentials: Credentials;
  try {
    credentials = credentialsFromEnv(env);
  } catch (e) {
    if (!(e instanceof CredentialsError)) throw e;
    err(`error: ${e.message}`);
    return 2;
  }
  err(`Service Bus namespace ${describeCredentials(credentials)}`);
  let clients: Clients | undefined;
  try {
    clients = await connect(credentials);
    return await run(args, clients, out);
  } catch (e) {
    err(`error: ${args.command} failed: ${(e as Error).message}`);
    if (/unauthori[sz]ed|401|403|forbidden|claim|permission/i.test((e as Error).message)) {
      err(
        args.command === 'provision'
          ? 'provision needs Manage rights: a connection string with Manage, or the "Azure Service Bus Data Owner" role for your identity'
          : 'dlq commands need Listen and Send rights on the namespace (roles "Azure Service Bus Data Receiver" and "Data Sender")',
      );
    }
    return 1;
  } finally {
    await clients?.close().catch(() => undefined);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
