/**
 * The outage budget the docs state: daprd's retries of a delivery never end by themselves, however long
 * the audit app's database stays down (docs/reliability.md). Each Resiliency resource of the repository is
 * handed to daprd's own policy code (tools/dapr-build/facts, `retryHorizons`), which follows the back-off
 * of every pub/sub's inbound policy on a simulated clock until it gives up or months have passed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { retryHorizons } from '../tools/validate/dapr-facts';
import { must } from './support/must';

const repoRoot = resolve(__dirname, '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

interface Doc {
  kind?: string;
  metadata?: { name?: string };
  spec?: { type?: string; targets?: { components?: Record<string, unknown> } };
}

const docsOf = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
const files = [...yamlFiles(join(repoRoot, 'components')), ...yamlFiles(join(repoRoot, 'k8s'))];
const resiliencies = files.flatMap((f) =>
  docsOf(f)
    .filter((d) => d?.kind === 'Resiliency')
    .map((d) => ({ file: relative(repoRoot, f), resiliency: d })),
);
const pubsubs = new Set(
  files.flatMap((f) =>
    docsOf(f)
      .filter((d) => d?.spec?.type?.startsWith('pubsub.'))
      .map((d) => must(d.metadata?.name, `the name of a pub/sub in ${f}`)),
  ),
);

/** A day in Go duration syntax is 24h: the horizon in hours, or 0 when the text is not one. */
const hoursOf = (goDuration: string | undefined) => Number(/^(\d+)h/.exec(goDuration ?? '')?.[1] ?? 0);

describe('delivery retries never stop by themselves', () => {
  it('finds the resources it checks', () => {
    expect(resiliencies.map((r) => r.file).sort()).toEqual([
      'components/shared/resiliency.yaml',
      'k8s/base/dapr/resiliency.yaml',
    ]);
    expect([...pubsubs]).toEqual(['pubsub']);
  });

  it.each(resiliencies.map((r) => [r.file, r.resiliency]))(
    '%s: every pub/sub inbound policy retries for months without giving up',
    (_file, resiliency) => {
      const components = [...pubsubs].map((name) => ({ name, category: 'Pubsub' as const }));
      const horizons = retryHorizons({ resiliencies: [resiliency], components });
      for (const name of pubsubs) {
        const { inbound } = must(horizons[name], `the retry horizons of ${name}`);
        expect({ name, ...inbound, stopsAfter: inbound.stopsAfter ?? 'never' }).toMatchObject({
          name,
          retries: true,
          stopsAfter: 'never',
        });
        expect(inbound.maxRetries).toBeUndefined();
        expect(hoursOf(inbound.neverStopsWithin)).toBeGreaterThanOrEqual(30 * 24);
      }
    },
  );

  it('tells a policy that stops from one that does not (exponential gives up after 15 minutes)', () => {
    const policy = (deliver: object) => ({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Resiliency',
      metadata: { name: 'probe' },
      spec: {
        policies: { retries: { deliver } },
        targets: { components: { pubsub: { inbound: { retry: 'deliver' } } } },
      },
    });
    const horizon = (deliver: object) =>
      must(
        retryHorizons({ resiliencies: [policy(deliver)], components: [{ name: 'pubsub', category: 'Pubsub' }] }).pubsub,
        'the retry horizons of pubsub',
      ).inbound;
    expect(horizon({ policy: 'exponential', maxInterval: '15s', maxRetries: -1 }).stopsAfter).toMatch(/^1[45]m/);
    expect(horizon({ policy: 'constant', duration: '2s', maxRetries: 5 })).toMatchObject({
      maxRetries: 5,
      stopsAfter: '10s',
    });
    expect(horizon({ policy: 'constant', duration: '2s', maxRetries: -1 }).stopsAfter).toBeUndefined();
  });
});
