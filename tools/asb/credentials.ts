/**
 * Where the Service Bus tool gets its credentials: the environment only, never arguments (they would
 * land in shell history).
 *   SERVICEBUS_CONNECTION_STRING  a shared access policy connection string
 *   SERVICEBUS_NAMESPACE          the namespace (name or FQDN), signed in with DefaultAzureCredential
 *                                 (az login, workload identity, managed identity, environment variables)
 */
export type Credentials =
  | { kind: 'connection-string'; connectionString: string; namespace: string }
  | { kind: 'entra'; fullyQualifiedNamespace: string };

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

export const MISSING_CREDENTIALS = [
  'No Service Bus credentials. Set one of:',
  '  SERVICEBUS_CONNECTION_STRING  a connection string (Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...)',
  '                                with Manage rights for provision, Listen and Send for dlq:peek and dlq:replay',
  '  SERVICEBUS_NAMESPACE          the namespace, e.g. sb-portable-dapr (or sb-portable-dapr.servicebus.windows.net), to sign in',
  '                                with DefaultAzureCredential (az login); your identity needs the "Azure Service Bus Data Owner"',
  '                                role for provision, "Data Receiver" and "Data Sender" for dlq:*',
].join('\n');

const NAMESPACE = /^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$/;

/** A namespace name or FQDN as the SDK wants it (FQDN). */
export function fullyQualified(namespace: string): string {
  const ns = namespace
    .trim()
    .replace(/^sb:\/\//, '')
    .replace(/\/+$/, '');
  if (ns.includes('.')) return ns;
  if (!NAMESPACE.test(ns))
    throw new CredentialsError(
      `SERVICEBUS_NAMESPACE "${namespace}" is not a Service Bus namespace name (6-50 letters, digits, hyphens)`,
    );
  return `${ns}.servicebus.windows.net`;
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials {
  const connectionString = env.SERVICEBUS_CONNECTION_STRING?.trim();
  const namespace = env.SERVICEBUS_NAMESPACE?.trim();
  if (connectionString) {
    const endpointHost = /(?:^|;)\s*Endpoint\s*=\s*sb:\/\/([^/;]+)/i.exec(connectionString)?.[1];
    if (!endpointHost)
      throw new CredentialsError(
        'SERVICEBUS_CONNECTION_STRING has no Endpoint=sb://<namespace>/ part: is it a Service Bus connection string?',
      );
    if (!/SharedAccessKey(Name)?\s*=|SharedAccessSignature\s*=/i.test(connectionString)) {
      throw new CredentialsError(
        'SERVICEBUS_CONNECTION_STRING has neither SharedAccessKeyName/SharedAccessKey nor SharedAccessSignature',
      );
    }
    if (/EntityPath\s*=/i.test(connectionString)) {
      throw new CredentialsError(
        'SERVICEBUS_CONNECTION_STRING is scoped to one entity (EntityPath=...): use a namespace-level shared access policy',
      );
    }
    return { kind: 'connection-string', connectionString, namespace: endpointHost };
  }
  if (namespace) return { kind: 'entra', fullyQualifiedNamespace: fullyQualified(namespace) };
  throw new CredentialsError(MISSING_CREDENTIALS);
}

/** For messages: which namespace, and how, without the secret. */
export function describeCredentials(c: Credentials): string {
  return c.kind === 'connection-string'
    ? `${c.namespace} (connection string)`
    : `${c.fullyQualifiedNamespace} (Microsoft Entra ID, DefaultAzureCredential)`;
}
