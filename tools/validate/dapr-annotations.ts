import { distance } from 'fastest-levenshtein';

/**
 * Values of the pod annotations the Dapr sidecar injector reads. Which annotations exist, and the Go type
 * each is parsed into, come from the injector itself (dapr-facts.ts); an int it cannot parse, it ignores
 * with a log line nobody reads, and a bool it reads as false unless truthy. What a string must look like
 * is ours to say, for the ones where a wrong value only shows in the sidecar's behaviour.
 */
type Check = (v: string) => string | undefined;

const integer: Check = (v) => (/^-?\d+$/.test(v) ? undefined : 'must be an integer');
const boolean: Check = (v) => (v === 'true' || v === 'false' ? undefined : 'must be "true" or "false"');
const port: Check = (v) =>
  /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'must be a port number';
const quantity: Check = (v) =>
  /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.test(v) ? undefined : 'must be a Kubernetes quantity such as 100m or 128Mi';
const duration: Check = (v) =>
  /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v) ? undefined : 'must be a duration such as 10s';
// App ids name the <app-id>-dapr Service: DNS labels, no dots.
const appId: Check = (v) =>
  /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v) ? undefined : 'must be a lowercase DNS label (letters, digits, -)';
const secretName: Check = (v) =>
  /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v) ? undefined : 'must be a Secret name';
const nonEmpty: Check = (v) => (v.trim() === '' ? 'must not be empty' : undefined);

/** By the injector's Go type. Pointers are optional values of the same type. */
const BY_TYPE: Record<string, Check> = { bool: boolean, int: integer, int32: integer, string: nonEmpty };

/** Stricter than their type, by name. */
const BY_NAME: Record<string, Check> = {
  'dapr.io/app-id': appId,
  'dapr.io/api-token-secret': secretName,
  'dapr.io/app-token-secret': secretName,
  'dapr.io/sidecar-cpu-request': quantity,
  'dapr.io/sidecar-cpu-limit': quantity,
  'dapr.io/sidecar-memory-request': quantity,
  'dapr.io/sidecar-memory-limit': quantity,
  'dapr.io/max-body-size': quantity,
  'dapr.io/read-buffer-size': quantity,
  'dapr.io/block-shutdown-duration': duration,
  'dapr.io/app-binding-options-timeout': duration,
  'dapr.io/actors-disseminate-timeout': duration,
  // Empty turns these off, on purpose.
  'dapr.io/placement-host-address': () => undefined,
  'dapr.io/scheduler-host-address': () => undefined,
};

/** What is wrong with an annotation's value, given the Go type the injector reads it into. */
export function checkAnnotationValue(key: string, goType: string, value: string): string | undefined {
  const byName = BY_NAME[key] ?? (key.endsWith('-port') && goType.endsWith('int32') ? port : undefined);
  return (byName ?? BY_TYPE[goType.replace(/^\*/, '')] ?? nonEmpty)(value);
}

/** The closest candidate within a small distance (or a case-only difference), for a hint. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : distance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}
