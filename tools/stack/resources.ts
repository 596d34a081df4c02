import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, parseAllDocuments } from 'yaml';
import { BROKER_VARIANTS, Broker, COMPONENTS_DIR, SQL_VARIANTS, SqlEngine } from './variants';

export const DEFAULT_TOPIC = 'products';
export const deadLetterTopicOf = (topic: string) => `${topic}-deadletter`;

export interface ResourceSetOptions {
  broker: Broker;
  sql: SqlEngine;
  /** Where the resolved set is written (resources/, configuration.yaml, secrets.json). */
  outDir: string;
  /** Secrets for the local file store; when omitted the committed path (components/secrets/secrets.json) stays. */
  secrets?: Record<string, string>;
  /** Metadata values to set per component name, e.g. { pubsub: { redisHost: '127.0.0.1:6390' } }. */
  metadata?: Record<string, Record<string, string>>;
  /** A topic other than `products` (tests use one per run so runs never share messages). */
  topic?: string;
  /** The SQLite file sidecars of this run resolve each other through. */
  nameResolutionFile: string;
  /** A last change to the Configuration (tests add access control). */
  editConfiguration?: (spec: Record<string, unknown>) => void;
}

export interface ResourceSet {
  resourcesDir: string;
  configFile: string;
}

type Resource = { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> };

function readDocs(file: string): Document[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).filter((d) => d.contents !== null) as Document[];
}

const keyOf = (d: Document) => {
  const r = d.toJS() as Resource;
  return `${r.kind}/${r.metadata?.name}`;
};

function setMetadata(doc: Document, values: Record<string, string>): void {
  const items = (doc.getIn(['spec', 'metadata']) as { items: unknown[] } | undefined)?.items ?? [];
  const byName = new Map(items.map((item, i) => [String((item as { get(k: string): unknown }).get('name')), i]));
  for (const [name, value] of Object.entries(values)) {
    const at = byName.get(name);
    if (at === undefined) doc.addIn(['spec', 'metadata'], doc.createNode({ name, value }));
    else doc.setIn(['spec', 'metadata', at], doc.createNode({ name, value }));
  }
}

/**
 * Resolves the component set for a run: the defaults in components/, with the chosen broker's and SQL
 * engine's component replacing the default of the same kind and name, then run-specific values applied.
 */
export function materializeResources(o: ResourceSetOptions): ResourceSet {
  const replacements = [BROKER_VARIANTS[o.broker].componentFile, SQL_VARIANTS[o.sql].componentFile].filter((f): f is string => !!f).flatMap(readDocs);
  const replaced = new Set(replacements.map(keyOf));
  const defaults = readdirSync(COMPONENTS_DIR)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'configuration.yaml')
    .sort()
    .flatMap((f) => readDocs(join(COMPONENTS_DIR, f)))
    .filter((d) => !replaced.has(keyOf(d)));
  const docs = [...defaults, ...replacements];

  const resourcesDir = join(o.outDir, 'resources');
  mkdirSync(resourcesDir, { recursive: true });
  const secretsFile = join(o.outDir, 'secrets.json');
  if (o.secrets) writeFileSync(secretsFile, JSON.stringify(o.secrets, null, 2));

  for (const doc of docs) {
    const r = doc.toJS() as Resource;
    const name = r.metadata?.name ?? '';
    if (r.kind === 'Component' && r.spec?.type === 'secretstores.local.file' && o.secrets) setMetadata(doc, { secretsFile });
    if (r.kind === 'Component' && o.metadata?.[name]) setMetadata(doc, o.metadata[name]);
    if (r.kind === 'Subscription' && o.topic) retargetSubscription(doc, o.topic);
  }
  docs.forEach((doc, i) => writeFileSync(join(resourcesDir, `${String(i).padStart(2, '0')}-${keyOf(doc).replace('/', '-').toLowerCase()}.yaml`), doc.toString()));

  const [config] = readDocs(join(COMPONENTS_DIR, 'configuration.yaml'));
  config!.setIn(['spec', 'nameResolution', 'configuration', 'connectionString'], o.nameResolutionFile);
  if (o.editConfiguration) {
    const spec = config!.toJS().spec as Record<string, unknown>;
    o.editConfiguration(spec);
    config!.set('spec', config!.createNode(spec));
  }
  const configFile = join(o.outDir, 'configuration.yaml');
  writeFileSync(configFile, config!.toString());
  return { resourcesDir, configFile };
}

function retargetSubscription(doc: Document, topic: string): void {
  const current = doc.getIn(['spec', 'topic']);
  if (current === DEFAULT_TOPIC) {
    doc.setIn(['spec', 'topic'], topic);
    doc.setIn(['spec', 'deadLetterTopic'], deadLetterTopicOf(topic));
  } else if (current === deadLetterTopicOf(DEFAULT_TOPIC)) {
    doc.setIn(['spec', 'topic'], deadLetterTopicOf(topic));
  }
}
