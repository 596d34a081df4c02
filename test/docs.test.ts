import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';
import { auditEnvSchema } from '../audit/src/config';
import { catalogEnvSchema } from '../catalog/src/config';

/**
 * The README and docs/ against the code: every relative link and anchor resolves, every `npm run`
 * script named exists, and the configuration table lists exactly the variables the services read.
 */
const ROOT = resolve(__dirname, '..');
const DOCS = ['README.md', 'bench/README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);
const md = new MarkdownIt({ html: true });
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

function anchorsOf(file: string): Set<string> {
  const slugger = new GithubSlugger();
  const tokens = md.parse(read(file), {});
  return new Set(
    tokens.flatMap((t, i) => (t.type === 'heading_open' ? [slugger.slug(tokens[i + 1]?.content ?? '')] : [])),
  );
}

function linksOf(file: string): string[] {
  const walk = (tokens: ReturnType<typeof md.parse>): string[] =>
    tokens.flatMap((t) => [
      ...(t.type === 'link_open' ? [String(t.attrGet('href') ?? '')] : []),
      ...walk(t.children ?? []),
    ]);
  return walk(md.parse(read(file), {}));
}

describe('the documentation', () => {
  it.each(DOCS)('%s: every relative link and anchor resolves', (file) => {
    const broken: string[] = [];
    for (const href of linksOf(file)) {
      if (/^[a-z]+:/i.test(href)) continue;
      const [path, anchor] = href.split('#') as [string, string | undefined];
      const target = path ? resolve(ROOT, dirname(file), decodeURIComponent(path)) : join(ROOT, file);
      if (!existsSync(target)) broken.push(`${href}: no ${relative(ROOT, target)}`);
      else if (anchor && statSync(target).isFile() && !anchorsOf(relative(ROOT, target)).has(anchor))
        broken.push(`${href}: no heading #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = new Set(DOCS.flatMap((f) => [...read(f).matchAll(/npm run ([\w:-]+)/g)].flatMap((m) => m[1] ?? [])));
    expect([...named].filter((s) => !scripts.includes(s))).toEqual([]);
    for (const s of ['test:matrix', 'test:reliability', 'test:k8s', 'bench', 'lint', 'format'])
      expect(named).toContain(s);
  });

  it('lists in docs/configuration.md exactly the variables the services read', () => {
    const table = read('docs/configuration.md')
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].flatMap((m) => m[1] ?? []));
    // APP_PORT: the Dapr CLI's name for PORT, read in its place (parseEnv).
    const read_ = new Set([...Object.keys(catalogEnvSchema.shape), ...Object.keys(auditEnvSchema.shape), 'APP_PORT']);
    expect([...new Set(table)].sort()).toEqual([...read_].sort());
  });
});
