import {
  daprdLdflags,
  goVersionAtLeast,
  parseCliVersion,
  parseDaprdVersion,
  parseSha256File,
  pickInstalled,
} from './versions-check';

describe('Dapr version checks', () => {
  it('reads what daprd --version prints', () => {
    expect(parseDaprdVersion('1.18.3\n')).toBe('1.18.3');
    expect(parseDaprdVersion('v1.18.3')).toBe('1.18.3');
    expect(parseDaprdVersion('1.19.0-rc.1')).toBe('1.19.0-rc.1');
    expect(parseDaprdVersion('edge')).toBeUndefined();
    expect(parseDaprdVersion('')).toBeUndefined();
  });

  it('reads the CLI version out of dapr --version', () => {
    expect(parseCliVersion('CLI version: 1.18.0 \nRuntime version: 1.18.3')).toBe('1.18.0');
    expect(parseCliVersion('Runtime version: n/a')).toBeUndefined();
  });

  it('compares Go versions numerically', () => {
    expect(goVersionAtLeast('go1.26.8', '1.26.6')).toBe(true);
    expect(goVersionAtLeast('go1.26.6', '1.26.6')).toBe(true);
    expect(goVersionAtLeast('go1.26.5', '1.26.6')).toBe(false);
    expect(goVersionAtLeast('go1.3', '1.21.0')).toBe(false);
    expect(goVersionAtLeast('go1.100.0', '1.21.0')).toBe(true);
    expect(goVersionAtLeast('devel', '1.21.0')).toBe(false);
  });

  it('reads a release checksum file', () => {
    const hex = 'a'.repeat(64);
    expect(parseSha256File(`${hex}  daprd_linux_amd64.tar.gz\n`)).toBe(hex);
    expect(parseSha256File(hex.toUpperCase())).toBe(hex);
    expect(parseSha256File('<html>not found</html>')).toBeUndefined();
  });

  it('stamps the version into the binaries the way the Dapr Makefile does', () => {
    expect(daprdLdflags('1.18.3')).toContain('-X github.com/dapr/dapr/pkg/buildinfo.version=1.18.3');
    expect(daprdLdflags('1.18.3')).toContain('-X github.com/dapr/kit/logger.DaprVersion=1.18.3');
  });
});

describe('choosing an installed Dapr', () => {
  it('takes the project install first, then dapr init, then PATH, and only the pinned version', () => {
    const decision = pickInstalled(
      [
        { kind: 'path', path: '/usr/local/bin/daprd', version: '1.18.3' },
        { kind: 'dapr-init', path: '/home/u/.dapr/bin/daprd', version: '1.18.3' },
        { kind: 'project', path: '.dapr/bin/daprd', version: '1.17.0' },
      ],
      '1.18.3',
    );
    expect(decision.use?.kind).toBe('dapr-init');
    expect(decision.ignored.map((c) => c.kind)).toEqual(['project']);
  });

  it('never uses a wrong version, and reports each one it ignores', () => {
    const decision = pickInstalled(
      [
        { kind: 'path', path: '/usr/bin/daprd', version: '1.14.4' },
        { kind: 'dapr-init', path: '/home/u/.dapr/bin/daprd', version: undefined },
      ],
      '1.18.3',
    );
    expect(decision.use).toBeUndefined();
    expect(decision.ignored).toHaveLength(2);
  });

  it('has nothing to use when nothing is installed', () => {
    expect(pickInstalled([], '1.18.3')).toEqual({ use: undefined, ignored: [] });
  });
});
