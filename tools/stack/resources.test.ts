import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { must } from '../../test/support/must';
import { editResourceFolders } from './resources';

const COMPONENTS = resolve(__dirname, '..', '..', 'components');
/** What these tests read of a resource: a Subscription's topics, a Component's metadata. */
interface Doc {
  kind: string;
  spec: { topic?: string; deadLetterTopic?: string; metadata?: { name: string; value?: string }[] };
}
const docsIn = (dir: string) =>
  readdirSync(dir).flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Doc));

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
    const folders = editResourceFolders(
      committed,
      { topic: 'products-run1', metadata: { pubsub: { redisHost: '127.0.0.1:7777' } } },
      out,
    );
    const [shared, broker] = [must(folders[0], 'the shared folder'), must(folders[1], 'the broker folder')];
    expect(folders[2]).toBe(committed[2]);
    const subs = docsIn(shared)
      .filter((d) => d.kind === 'Subscription')
      .map((d) => [d.spec.topic, d.spec.deadLetterTopic]);
    expect(subs).toEqual([
      ['products-run1', 'products-run1-deadletter'],
      ['products-run1-deadletter', undefined],
    ]);
    // The other files of the copied folder are byte for byte the committed ones (relative paths included).
    expect(readFileSync(join(shared, 'secretstore.yaml'), 'utf8')).toBe(
      readFileSync(join(COMPONENTS, 'shared', 'secretstore.yaml'), 'utf8'),
    );
    // The edited entry changes; every other entry is the committed one.
    const component = (dir: string) =>
      must(docsIn(dir).find((d) => d.kind === 'Component')?.spec.metadata, `a Component with metadata in ${dir}`);
    const [edited, original] = [component(broker), component(join(COMPONENTS, 'brokers/redis'))];
    expect(edited).toContainEqual({ name: 'redisHost', value: '127.0.0.1:7777' });
    expect(edited.filter((m) => m.name !== 'redisHost')).toEqual(original.filter((m) => m.name !== 'redisHost'));
  });
});
