/**
 * The pod annotations the Dapr sidecar injector reads (dapr/dapr pkg/injector/annotations, v1.18).
 * Anything else under dapr.io/ is ignored by the injector, so a misspelling silently loses a setting:
 * the validator reports it. Value kinds let it check values too.
 */
export type AnnotationKind = 'bool' | 'int' | 'port' | 'string' | 'quantity' | 'duration' | 'app-id' | 'secret-name';

export const DAPR_ANNOTATIONS: Record<string, AnnotationKind> = {
  'dapr.io/enabled': 'bool',
  'dapr.io/app-id': 'app-id',
  'dapr.io/app-port': 'port',
  'dapr.io/app-protocol': 'string',
  'dapr.io/app-ssl': 'bool',
  'dapr.io/config': 'string',
  'dapr.io/enable-profiling': 'bool',
  'dapr.io/log-level': 'string',
  'dapr.io/api-token-secret': 'secret-name',
  'dapr.io/app-token-secret': 'secret-name',
  'dapr.io/log-as-json': 'bool',
  'dapr.io/app-max-concurrency': 'int',
  'dapr.io/enable-metrics': 'bool',
  'dapr.io/metrics-port': 'port',
  'dapr.io/enable-debug': 'bool',
  'dapr.io/debug-port': 'port',
  'dapr.io/env': 'string',
  'dapr.io/env-from-secret': 'string',
  'dapr.io/grpc-port': 'port',
  'dapr.io/internal-grpc-port': 'port',
  'dapr.io/sidecar-cpu-request': 'quantity',
  'dapr.io/sidecar-cpu-limit': 'quantity',
  'dapr.io/sidecar-memory-request': 'quantity',
  'dapr.io/sidecar-memory-limit': 'quantity',
  'dapr.io/sidecar-listen-addresses': 'string',
  'dapr.io/sidecar-liveness-probe-delay-seconds': 'int',
  'dapr.io/sidecar-liveness-probe-timeout-seconds': 'int',
  'dapr.io/sidecar-liveness-probe-period-seconds': 'int',
  'dapr.io/sidecar-liveness-probe-threshold': 'int',
  'dapr.io/sidecar-readiness-probe-delay-seconds': 'int',
  'dapr.io/sidecar-readiness-probe-timeout-seconds': 'int',
  'dapr.io/sidecar-readiness-probe-period-seconds': 'int',
  'dapr.io/sidecar-readiness-probe-threshold': 'int',
  'dapr.io/sidecar-image': 'string',
  'dapr.io/sidecar-seccomp-profile-type': 'string',
  'dapr.io/http-max-request-size': 'int',
  'dapr.io/max-body-size': 'quantity',
  'dapr.io/http-read-buffer-size': 'int',
  'dapr.io/read-buffer-size': 'quantity',
  'dapr.io/graceful-shutdown-seconds': 'int',
  'dapr.io/block-shutdown-duration': 'duration',
  'dapr.io/enable-api-logging': 'bool',
  'dapr.io/unix-domain-socket-path': 'string',
  'dapr.io/volume-mounts': 'string',
  'dapr.io/volume-mounts-rw': 'string',
  'dapr.io/disable-builtin-k8s-secret-store': 'bool',
  'dapr.io/enable-app-health-check': 'bool',
  'dapr.io/app-health-check-path': 'string',
  'dapr.io/app-health-probe-interval': 'int',
  'dapr.io/app-health-probe-timeout': 'int',
  'dapr.io/app-health-threshold': 'int',
  'dapr.io/placement-host-address': 'string',
  'dapr.io/scheduler-host-address': 'string',
  'dapr.io/pluggable-components': 'string',
  'dapr.io/pluggable-components-sockets-folder': 'string',
  'dapr.io/component-container': 'string',
  'dapr.io/inject-pluggable-components': 'bool',
  'dapr.io/app-channel-address': 'string',
  'dapr.io/sentry-request-jwt-audiences': 'string',
};

const CHECKS: Record<AnnotationKind, (v: string) => string | undefined> = {
  bool: (v) => (v === 'true' || v === 'false' ? undefined : 'must be "true" or "false"'),
  int: (v) => (/^-?\d+$/.test(v) ? undefined : 'must be an integer'),
  port: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'must be a port number'),
  string: (v) => (v.trim() === '' ? 'must not be empty' : undefined),
  quantity: (v) => (/^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/.test(v) ? undefined : 'must be a Kubernetes quantity such as 100m or 128Mi'),
  duration: (v) => (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v) ? undefined : 'must be a duration such as 10s'),
  // Dapr app ids are DNS labels (they name the <app-id>-dapr Service) and may not contain dots.
  'app-id': (v) => (/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v) ? undefined : 'must be a lowercase DNS label (letters, digits, -)'),
  'secret-name': (v) => (/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v) ? undefined : 'must be a Secret name'),
};

export function checkAnnotationValue(key: string, value: string): string | undefined {
  const kind = DAPR_ANNOTATIONS[key];
  return kind ? CHECKS[kind](value) : undefined;
}

/** Edit distance, for "did you mean" hints. */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
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
