import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture } from '../dapr/progress';

/**
 * The throwaway credentials of one test control plane, made with the openssl CLI (node:crypto makes
 * keys but no X.509 certificates): a CA valid for two days, the API server's serving certificate, an
 * admin client certificate in the group system:masters (the API server's built-in superuser group) and
 * the key pair that signs ServiceAccount tokens.
 */
export interface Pki {
  caCert: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const openssl = (dir: string, args: string[]) => capture('openssl', args, { cwd: dir, timeoutMs: 30_000 });

async function keyPair(dir: string, name: string): Promise<string> {
  await openssl(dir, ['genrsa', '-out', `${name}.key`, '2048']);
  return join(dir, `${name}.key`);
}

/** A certificate for `subject`, signed by the CA, with the X.509 v3 extensions in `extensions` (openssl's extfile syntax). */
async function signed(
  dir: string,
  name: string,
  subject: string,
  extensions: string[],
): Promise<{ cert: string; key: string }> {
  const key = await keyPair(dir, name);
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  await openssl(dir, ['req', '-new', '-key', key, '-subj', subject, '-out', `${name}.csr`]);
  // A random serial per certificate rather than -CAcreateserial: certificates are signed in parallel.
  const serial = `0x${randomBytes(16).toString('hex')}`;
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    serial,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return { cert: join(dir, `${name}.crt`), key };
}

/**
 * `apiserverIps`: the addresses the API server is also reached at besides 127.0.0.1 (a cluster's node
 * address and the ClusterIP of the `kubernetes` Service, which pods use).
 */
export async function makePki(dir: string, apiserverIps: string[] = []): Promise<Pki> {
  const caKey = await keyPair(dir, 'ca');
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-subj',
    '/CN=loopback-kubernetes-ca',
    '-days',
    '2',
    '-out',
    'ca.crt',
  ]);
  const leaf = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment'];
  // The names a client inside the cluster would use too, so the certificate is not the odd one out.
  const apiserverNames = [
    'IP:127.0.0.1',
    ...apiserverIps.map((ip) => `IP:${ip}`),
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const [, , serviceAccountKey] = await Promise.all([
    signed(dir, 'apiserver', '/CN=kube-apiserver', [
      ...leaf,
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${apiserverNames.join(',')}`,
    ]),
    signed(dir, 'admin', '/O=system:masters/CN=loopback-admin', [...leaf, 'extendedKeyUsage=clientAuth']),
    keyPair(dir, 'service-account'),
  ]);
  await openssl(dir, ['rsa', '-in', serviceAccountKey, '-pubout', '-out', 'service-account.pub']);
  return pkiFiles(dir);
}

/** The files makePki() writes into `dir`: what a process that attaches to them later reads. */
export function pkiFiles(dir: string): Pki {
  const f = (name: string) => join(dir, name);
  return {
    caCert: f('ca.crt'),
    apiserverCert: f('apiserver.crt'),
    apiserverKey: f('apiserver.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    serviceAccountKey: f('service-account.key'),
    serviceAccountPub: f('service-account.pub'),
  };
}
