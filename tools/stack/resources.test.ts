import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { editResourceFolders } from './resources';

const COMPONENTS = resolve(__dirname, '..', '..', 'components');
const docsIn = (dir: string) =>
  readdirSync(dir).flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as { kind: string; spec: any }),
  );

describe("a test stack's resources", () => {
  let out: string;
  beforeEach(() => (out = mkdtempSync(join(tmpdir(), 'pdm-res-'))));
  afterEach(() => rmSync(out, { recursive: true, force: true }));
  const committed = ['shared', 'brokers/redis', 'sql/postgres'].map((d) => join(COMPONENTS, d));

  it('are the committed folders themselves when nothing is changed', () => {
    expect(editResourceFolders(committed, {}, out)).toEqual(committed);
    expect(editResourceFolders(committed, { topic: 'products' }, out)).toEqual(committed);
  });

  it('copy only the folders an edit applies to, changing only that', () => {
    const [shared, broker, sql] = editResourceFolders(
      committed,
      { topic: 'products-run1', metadata: { pubsub: { redisHost: '127.0.0.1:7777' } } },
      out,
    );
    expect(sql).toBe(committed[2]);
    const subs = docsIn(shared!)
      .filter((d) => d.kind === 'Subscription')
      .map((d) => [d.spec.topic, d.spec.deadLetterTopic]);
    expect(subs).toEqual([
      ['products-run1', 'products-run1-deadletter'],
      ['products-run1-deadletter', undefined],
    ]);
    // The other files of the copied folder are byte for byte the committed ones (relative paths included).
    expect(readFileSync(join(shared!, 'secretstore.yaml'), 'utf8')).toBe(
      readFileSync(join(committed[0]!, 'secretstore.yaml'), 'utf8'),
    );
    // The edited entry changes; every other entry is the committed one.
    const component = (dir: string) =>
      docsIn(dir).find((d) => d.kind === 'Component')!.spec.metadata as { name: string }[];
    const [edited, original] = [component(broker!), component(committed[1]!)];
    expect(edited).toContainEqual({ name: 'redisHost', value: '127.0.0.1:7777' });
    expect(edited.filter((m) => m.name !== 'redisHost')).toEqual(original.filter((m) => m.name !== 'redisHost'));
  });
});
