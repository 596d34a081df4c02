import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';
import MarkdownIt from 'markdown-it';
import { auditEnvSchema } from '../audit/src/config';
import { catalogEnvSchema } from '../catalog/src/config';

/**
 * The README and docs/ against the code: every relative link and anchor resolves, every repository path
 * named in backticks (there and in code comments) exists, every `npm run`
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

/** The repository's own top-level entries: a backticked text starting with one of them names a path in it. */
const TOP_LEVEL = new Set(
  execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.split('/')[0] ?? f),
);

/** What git ignores: made by a run (logs, builds), so not expected in a fresh clone. */
function ignoredByGit(paths: string[]): Set<string> {
  const r = spawnSync('git', ['check-ignore', '--no-index', '--stdin'], { cwd: ROOT, input: paths.join('\n') });
  return new Set(r.stdout.toString().split('\n').filter(Boolean));
}

/** Backticked texts that look like a repository path (a top-level entry, no placeholder, glob or space). */
function backtickedPaths(text: string): string[] {
  return [...text.matchAll(/`([^`\s]+)`/g)]
    .map((m) => (m[1] ?? '').replace(/[:#].*$/, '').replace(/[.,;]$/, ''))
    .filter((p) => TOP_LEVEL.has(p.split('/')[0] ?? p) && !/[<>*{}$[\]]/.test(p));
}

/** Those of `paths` a clone lacks: not in the tree and not something git ignores (git asked once). */
function missingPaths(paths: string[]): string[] {
  const absent = paths.filter((p) => !existsSync(join(ROOT, p)));
  if (absent.length === 0) return [];
  const ignored = ignoredByGit(absent);
  return absent.filter((p) => !ignored.has(p));
}

/** The comment lines of a source file (// and /* * lines, # lines of YAML and shell). */
const commentLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => /^\s*(\/\/|\/?\*|#)/.test(l))
    .join('\n');

describe('paths named in backticks', () => {
  const sources = execFileSync('git', ['ls-files', '*.ts', '*.yaml', '*.sh', '.ci/run', 'Dockerfile', '*.mjs'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f && existsSync(join(ROOT, f)));

  it.each(DOCS)('%s: every repository path it names exists', (file) => {
    expect(missingPaths(backtickedPaths(read(file)))).toEqual([]);
  });

  it('code comments: every repository path they name exists', () => {
    const named = sources.flatMap((file) => backtickedPaths(commentLines(read(file))).map((path) => ({ file, path })));
    const missing = new Set(missingPaths(named.map((n) => n.path)));
    expect(named.filter((n) => missing.has(n.path)).map((n) => `${n.file}: ${n.path}`)).toEqual([]);
  });
});
