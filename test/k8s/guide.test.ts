/**
 * docs/deploy-aks.md against the manifests it deploys: names, namespaces, secrets, identities and
 * commands must match what `kubectl kustomize` renders, and the Service Bus tool's defaults must match
 * the Dapr resources, so the guide cannot drift from k8s/ unnoticed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_PLAN_OPTIONS, isoDurationSeconds } from '../../tools/asb/provision';
import { findKustomizations } from '../../tools/validate';
import { loadPrerequisites, renderKustomization } from '../../tools/validate/load';
import type { Resource } from '../../tools/validate/model';
import { ofKind, resourceOf } from '../support/manifests';
import { must } from '../support/must';

const repoRoot = resolve(__dirname, '../..');
const k8sDir = join(repoRoot, 'k8s');
const guide = readFileSync(join(repoRoot, 'docs/deploy-aks.md'), 'utf8');
/** Shell lines of the guide's code blocks, continuation lines joined. */
const commands = [...guide.matchAll(/```bash\n([\s\S]*?)```/g)]
  .flatMap((m) => (m[1] ?? '').replace(/\\\n\s*/g, ' ').split('\n'))
  .map((l) => l.trim());

const renderCache = new Map<string, Resource[]>();
const render = (dir: string): Resource[] => {
  let docs = renderCache.get(dir);
  if (!docs) renderCache.set(dir, (docs = renderKustomization(join(repoRoot, dir), dir).map((d) => d.resource)));
  return docs;
};

/** The kustomizations the AKS guide deploys: all but the local overlay, which docs/kubernetes.md deploys. */
const aksKustomizations = () =>
  findKustomizations(k8sDir)
    .map((d) => d.slice(repoRoot.length + 1))
    .filter((d) => d !== 'k8s/overlays/local');

describe('docs/deploy-aks.md', () => {
  it('creates every secret each kustomization declares, with its keys, in the namespace', () => {
    for (const dir of aksKustomizations()) {
      for (const secret of loadPrerequisites(join(repoRoot, dir)).secrets) {
        const line = commands.find((c) => new RegExp(`create secret (generic|tls) ${secret.name}(\\s|$)`).test(c));
        if (!line) throw new Error(`the guide never creates the Secret ${secret.name} (${dir}/prerequisites.yaml)`);
        expect(line).toMatch(/kubectl -n portable-dapr create secret/);
        for (const key of secret.keys ?? []) {
          const ok =
            line.includes(`--from-literal=${key}=`) ||
            (line.includes('create secret tls') && ['tls.crt', 'tls.key'].includes(key));
          if (!ok) throw new Error(`the guide creates ${secret.name} without its key ${key}: ${line}`);
        }
      }
    }
  });

  it('applies only folders that are kustomizations, and every one of them', () => {
    const applied = new Set(
      commands.flatMap((c) => [...c.matchAll(/kubectl (?:-n \S+ )?apply -k ([\w./-]+)/g)].map((m) => m[1] ?? '')),
    );
    for (const dir of applied) expect(existsSync(join(repoRoot, dir, 'kustomization.yaml'))).toBe(true);
    expect([...applied].sort()).toEqual(aksKustomizations().sort());
  });

  it('names the images the base kustomization pins, and edits them with kustomize edit set image', () => {
    const k = parse(readFileSync(join(k8sDir, 'base/kustomization.yaml'), 'utf8')) as { images: { name: string }[] };
    const edit = commands.find((c) => c.includes('kustomize edit set image'));
    expect(edit).toBeDefined();
    for (const image of k.images)
      expect(edit).toContain(`${image.name}=$ACR.azurecr.io/${image.name.split('/').pop()}:1.0.0`);
  });

  it('writes every key of azure-settings.properties', () => {
    const keys = readFileSync(join(k8sDir, 'base/azure-settings.properties'), 'utf8')
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => l.slice(0, l.indexOf('=')));
    const heredoc = /cat > k8s\/base\/azure-settings\.properties <<EOF\n([\s\S]*?)\nEOF/.exec(guide)?.[1] ?? '';
    expect(heredoc.split('\n').map((l) => l.slice(0, l.indexOf('=')))).toEqual(keys);
  });

  it('gives each app its own identity, federated with its ServiceAccount, and binds the audit one to PostgreSQL', () => {
    expect(guide).toContain('for app in catalog audit; do');
    expect(guide).toContain('--identity-name id-portable-dapr-$app');
    expect(guide).toContain('--subject system:serviceaccount:$NS:$app');
    expect(guide).toContain("pgaadauth_create_principal('id-portable-dapr-audit'");
    expect(guide).toContain('user=id-portable-dapr-audit sslmode');
    expect(guide).not.toMatch(/azureClientId=|id-portable-dapr-(pubsub|auditdb)/);
  });

  it('covers the Service Bus tool and the day-2 commands', () => {
    for (const c of ['npm run asb -- provision', 'npm run asb -- dlq:peek', 'npm run asb -- dlq:replay'])
      expect(guide).toContain(c);
    for (const c of [
      'kubectl -n portable-dapr scale deployment/',
      'kubectl -n portable-dapr set image deployment/',
      'kubectl -n portable-dapr rollout history deployment/',
      'kubectl -n portable-dapr rollout undo deployment/',
    ]) {
      expect(commands.some((l) => l.startsWith(c))).toBe(true);
    }
  });
});

describe('docs/deploy-aks.md against the rendered manifests', () => {
  it('works in the namespace the manifests use', () => {
    const namespaces = new Set(
      render('k8s/base')
        .filter((d) => d.kind === 'Namespace')
        .map((d) => d.metadata?.name),
    );
    expect([...namespaces]).toEqual(['portable-dapr']);
    expect(guide).toContain('NS=portable-dapr');
    const used = new Set(commands.flatMap((c) => [...c.matchAll(/kubectl -n (\S+)/g)].map((m) => m[1])));
    expect([...used]).toEqual(['portable-dapr']);
  });

  it('deploys each kustomization in one apply and waits on rollouts that fail within their progress deadline', () => {
    for (const dir of ['k8s/base', 'k8s/overlays/azure-sql', 'k8s/overlays/connection-strings']) {
      const docs = render(dir);
      // Nothing with an immutable pod template: a second apply after a settings or image change must pass.
      expect(docs.filter((d) => d.kind === 'Job' || d.kind === 'CronJob')).toEqual([]);
      for (const d of ofKind(docs, 'Deployment')) {
        expect(d.spec.template.spec.initContainers?.map((c) => [c.name, c.command])).toEqual([
          ['migrate', ['node', 'dist/migrate.js']],
        ]);
      }
    }
    const deployments = ofKind(render('k8s/base'), 'Deployment');
    const waits = commands.flatMap((c) => [...c.matchAll(/rollout status deployment\/(\S+) --timeout=(\d+)m/g)]);
    expect([...new Set(waits.map((w) => w[1]))].sort()).toEqual(deployments.map((d) => d.metadata.name).sort());
    for (const [, name = '', minutes] of waits) {
      const deadline = resourceOf(deployments, 'Deployment', name).spec.progressDeadlineSeconds;
      expect(Number(minutes) * 60).toBeGreaterThan(must(deadline, `the progress deadline of ${name}`));
    }
    expect(commands.some((c) => / -l \S+=/.test(c) && c.includes('apply -k'))).toBe(false);
  });

  it('changes an image in every container that runs it (the migrate init container too), and port-forwards to Dapr-enabled Deployments on the sidecar port', () => {
    const docs = render('k8s/base');
    const deployment = (name: string) => resourceOf(docs, 'Deployment', name);
    const containersOf = (name: string) => [
      ...(deployment(name).spec.template.spec.initContainers ?? []),
      ...deployment(name).spec.template.spec.containers,
    ];
    const setImages = commands.filter((c) => c.includes(' set image deployment/'));
    expect(setImages.length).toBeGreaterThan(0);
    for (const line of setImages) {
      const name = must(/set image deployment\/(\S+)/.exec(line)?.[1], `the Deployment of ${line}`);
      const set = Object.fromEntries(
        [...line.matchAll(/ ([\w-]+)=(\S+)/g)].map(([, c = '', image = '']) => [c, image]),
      );
      const containers = containersOf(name);
      for (const c of Object.keys(set)) expect(containers.map((x) => x.name)).toContain(c);
      // Every container that runs the image of one set here gets the new one too.
      const images = new Set(containers.filter((c) => c.name in set).map((c) => c.image));
      const sharing = containers.filter((c) => images.has(c.image)).map((c) => c.name);
      expect({ line, names: Object.keys(set).sort() }).toEqual({ line, names: sharing.sort() });
    }
    // kustomize edit set image changes the image wherever kustomize finds it, init containers included.
    const edits = commands.filter((c) => c.includes('kustomize edit set image'));
    expect(edits.length).toBeGreaterThanOrEqual(2);
    for (const edit of edits) expect(edit).toMatch(/^\(cd k8s\/base && kustomize edit set image /);
    const forwards = commands.flatMap((c) => [...c.matchAll(/port-forward deployment\/(\S+) \d+:(\d+)/g)]);
    expect(forwards.length).toBeGreaterThan(0);
    for (const [, name = '', port] of forwards) {
      expect(deployment(name).spec.template.metadata.annotations['dapr.io/enabled']).toBe('true');
      expect(port).toBe('3500');
    }
  });

  it('invokes only app ids that exist, through their sidecars', () => {
    const appIds = new Set(
      ofKind(render('k8s/base'), 'Deployment').map((d) => d.spec.template.metadata.annotations['dapr.io/app-id']),
    );
    const invoked = new Set(
      commands.flatMap((c) => [...c.matchAll(/\/v1\.0\/invoke\/([\w-]+)\/method\//g)].map((m) => m[1])),
    );
    expect([...invoked].sort()).toEqual([...appIds].sort());
  });

  it('provisions exactly the topics and subscription the Dapr resources use (asb defaults)', () => {
    const docs = render('k8s/base');
    const subs = ofKind(docs, 'Subscription');
    const main = must(
      subs.find((s) => s.spec.deadLetterTopic),
      'a Subscription with a dead-letter topic',
    );
    expect(main.spec.topic).toBe(DEFAULT_PLAN_OPTIONS.topic);
    expect(main.spec.deadLetterTopic).toBe(DEFAULT_PLAN_OPTIONS.deadLetterTopic);
    expect(subs.map((s) => s.spec.topic).sort()).toEqual(
      [DEFAULT_PLAN_OPTIONS.topic, DEFAULT_PLAN_OPTIONS.deadLetterTopic].sort(),
    );
    // Dapr's consumerID (the Service Bus subscription name) is the app id of the subscribing app.
    for (const s of subs) expect(s.scopes).toEqual([DEFAULT_PLAN_OPTIONS.subscription]);
    expect(resourceOf(docs, 'ConfigMap', 'catalog-env').data.PUBSUB_TOPIC).toBe(DEFAULT_PLAN_OPTIONS.topic);
    const meta = Object.fromEntries(
      resourceOf(docs, 'Component', 'pubsub').spec.metadata.map((m) => [m.name, m.value]),
    );
    expect(meta.consumerID).toBeUndefined();
    // daprd renews each message lock well before the subscription's lock duration runs out.
    expect(Number(meta.lockRenewalInSec) * 2).toBeLessThanOrEqual(
      isoDurationSeconds(DEFAULT_PLAN_OPTIONS.lockDuration),
    );
    // daprd's handler timeout for a bulk delivery lasts as long as the events behind it may wait.
    expect(Number(meta.handlerTimeoutInSec)).toBe(isoDurationSeconds(DEFAULT_PLAN_OPTIONS.messageTimeToLive));
    // The figures the guide states are the ones the tool sets.
    expect(DEFAULT_PLAN_OPTIONS.messageTimeToLive).toBe('P14D');
    expect(guide).toContain('message time to live, **14 days**');
    expect(guide).toContain(
      `after **${DEFAULT_PLAN_OPTIONS.maxDeliveryCount}** (the subscription's \`maxDeliveryCount\`)`,
    );
  });
});

describe('docs/deploy-aks.md: who may do what it tells operators to do', () => {
  /** The Service Bus roles the guide grants: identity (an app's principal, or you) → role → scope. */
  const grants = (() => {
    const principal: Record<string, string> = { CATALOG_PRINCIPAL: 'catalog', AUDIT_PRINCIPAL: 'audit', ME_OID: 'me' };
    const found: { who: string; role: string; scope: string }[] = [];
    // Loops over topics write the scope as $topic: expand them.
    const lines = guide.replace(/for topic in ([\w -]+); do\n([\s\S]*?)\ndone/g, (_m, topics: string, body: string) =>
      topics
        .trim()
        .split(/\s+/)
        .map((t) => body.replaceAll('$topic', t))
        .join('\n'),
    );
    for (const m of lines
      .replace(/\\\n\s*/g, ' ')
      .matchAll(/az role assignment create --assignee-object-id \$(\w+) .*?--role "([^"]+)" --scope (\S+)/g)) {
      const [, id = '', role = '', scope = ''] = m;
      found.push({ who: principal[id] ?? id, role, scope });
    }
    return found;
  })();
  const maySend = (who: string, topic: string) =>
    grants.some(
      (g) =>
        g.who === who &&
        ['Azure Service Bus Data Sender', 'Azure Service Bus Data Owner'].includes(g.role) &&
        (g.scope === '$SB_ID' || g.scope === `$SB_ID/topics/${topic}`),
    );

  it('reads the role assignments it checks against', () => {
    expect(maySend('catalog', 'products')).toBe(true);
    expect(maySend('audit', 'products-deadletter')).toBe(true);
    expect(maySend('audit', 'products')).toBe(false);
  });

  it('publishes to a topic only through the sidecar of an app whose identity may send to it', () => {
    // Which local port is which app's sidecar: the guide's port-forwards.
    const forwarded = Object.fromEntries(
      commands.flatMap((c) =>
        [...c.matchAll(/port-forward deployment\/(\S+) (\d+):3500/g)].map(([, app = '', port = '']) => [port, app]),
      ),
    );
    const blocks = [...guide.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').replace(/\\\n\s*/g, ' '));
    const publishes = blocks.flatMap((b) => [...b.matchAll(/127\.0\.0\.1:(\d+)\/v1\.0\/publish\/[\w-]+\/([\w-]+)/g)]);
    expect(publishes.length).toBeGreaterThan(0);
    for (const [, port = '', topic = ''] of publishes) {
      const app = must(forwarded[port], `the app whose sidecar is forwarded to port ${port}`);
      expect({ app, topic, maySend: maySend(app, topic) }).toEqual({ app, topic, maySend: true });
    }
  });

  it('replays the Service Bus dead-letter queue with an identity that may receive from it and send to the topic', () => {
    expect(commands.some((c) => c.includes('npm run asb -- dlq:replay'))).toBe(true);
    expect(grants.some((g) => g.who === 'me' && g.role === 'Azure Service Bus Data Receiver')).toBe(true);
    expect(maySend('me', DEFAULT_PLAN_OPTIONS.topic)).toBe(true);
  });
});

describe('docs/kubernetes.md, "Run it on a local cluster"', () => {
  const doc = readFileSync(join(repoRoot, 'docs/kubernetes.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Run it on a local cluster'));
  /** Each command of its code blocks: a for loop as a whole, other lines one by one (continuations joined). */
  const statements = [...section.matchAll(/```bash\n([\s\S]*?)```/g)]
    .map((m) => (m[1] ?? '').replace(/\\\n\s*/g, ' '))
    .flatMap((block) => block.split(/\n(?=\S)(?!done)/));

  it('creates every Secret the local overlay and its base declare, with its keys', () => {
    for (const secret of loadPrerequisites(join(repoRoot, 'k8s/overlays/local')).secrets) {
      const statement = statements.find((s) => new RegExp(`(\\s|^)${secret.name}(\\s|;|$)`).test(s));
      if (!statement) throw new Error(`the section never creates the Secret ${secret.name}`);
      expect(statement).toContain('create secret generic');
      for (const key of secret.keys ?? []) expect(statement).toContain(`--from-literal=${key}=`);
    }
  });

  it('applies the local overlay', () => {
    expect(statements.some((s) => s.includes('kubectl apply -k k8s/overlays/local'))).toBe(true);
  });
});
