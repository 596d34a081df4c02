import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Document, parseAllDocuments } from 'yaml';

export const DEFAULT_TOPIC = 'products';
export const deadLetterTopicOf = (topic: string) => `${topic}-deadletter`;

/** What a test stack changes in the run file's resources; everything else is used as committed. */
export interface ResourceEdits {
  /** A topic other than `products` (tests use one per run, so runs never share messages). */
  topic?: string;
  /** Metadata values to set per component name, e.g. { pubsub: { redisHost: '127.0.0.1:6390' } }. */
  metadata?: Record<string, Record<string, string>>;
}

type Resource = { kind?: string; metadata?: { name?: string }; spec?: { topic?: string } };

function setMetadata(doc: Document, values: Record<string, string>): void {
  const items = (doc.getIn(['spec', 'metadata']) as { items: unknown[] } | undefined)?.items ?? [];
  const byName = new Map(items.map((item, i) => [String((item as { get(k: string): unknown }).get('name')), i]));
  for (const [name, value] of Object.entries(values)) {
    const at = byName.get(name);
    if (at === undefined) doc.addIn(['spec', 'metadata'], doc.createNode({ name, value }));
    else doc.setIn(['spec', 'metadata', at], doc.createNode({ name, value }));
  }
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

/** Applies the edits to one YAML file's documents; returns the new text, or undefined if nothing applied. */
function editedText(text: string, edits: ResourceEdits): string | undefined {
  const docs = parseAllDocuments(text) as Document[];
  let changed = false;
  for (const doc of docs) {
    const r = doc.toJS() as Resource | null;
    const values = r?.kind === 'Component' ? edits.metadata?.[r.metadata?.name ?? ''] : undefined;
    if (values) {
      setMetadata(doc, values);
      changed = true;
    }
    if (r?.kind === 'Subscription' && edits.topic && edits.topic !== DEFAULT_TOPIC) {
      retargetSubscription(doc, edits.topic);
      changed = true;
    }
  }
  return changed ? docs.map((d) => d.toString()).join('') : undefined;
}

/**
 * The resources folders a test stack runs with: each folder of `paths` that an edit applies to is copied
 * under `outDir` with only that edit made (every other file and value as committed, relative paths
 * included); the others are used in place.
 */
export function editResourceFolders(paths: string[], edits: ResourceEdits, outDir: string): string[] {
  return paths.map((dir, i) => {
    const files = readdirSync(dir);
    const edited = new Map(
      files.map((f) => [f, /\.ya?ml$/.test(f) ? editedText(readFileSync(join(dir, f), 'utf8'), edits) : undefined]),
    );
    if (![...edited.values()].some((t) => t !== undefined)) return dir;
    const copy = join(outDir, `${i}-${basename(dir)}`);
    mkdirSync(copy, { recursive: true });
    for (const [file, text] of edited) {
      if (text === undefined) copyFileSync(join(dir, file), join(copy, file));
      else writeFileSync(join(copy, file), text);
    }
    return copy;
  });
}
