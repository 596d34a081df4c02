import { breakdown, CpuProfile, placeOf } from './node-profile';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

describe('placeOf', () => {
  it.each([
    ['query', '/app/node_modules/sequelize/lib/sequelize.js', 'sequelize'],
    ['publishBulk', 'file:///app/node_modules/@dapr/dapr/implementation/x.js', '@dapr/dapr'],
    ['create', '/app/catalog/dist/use-cases/products.js', 'ours: catalog'],
    ['inTransaction', '/app/common/dist/db.js', 'ours: common'],
    ['writev', 'node:internal/stream_base_commons', 'Node.js core'],
    ['(garbage collector)', '', 'V8: garbage collector'],
    ['(program)', '', 'V8: runtime, compiler and native'],
    ['JSONParse', '', 'V8: builtins'],
  ])('%s in %s is %s', (fn, url, place) => expect(placeOf(fn, url)).toBe(place));
});

describe('breakdown', () => {
  // root → pg query → node:net write; root → (idle); root → (garbage collector)
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
      { id: 2, callFrame: frame('query', '/x/node_modules/pg/lib/client.js'), children: [3] },
      { id: 3, callFrame: frame('writev', 'node:net') },
      { id: 4, callFrame: frame('(idle)') },
      { id: 5, callFrame: frame('(garbage collector)') },
    ],
    startTime: 1_000_000,
    samples: [3, 3, 2, 4, 5, 3],
    // Samples at 1.001, 1.002, 1.003, 1.004, 1.005 and 1.006 s; each stands for the time to the next.
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('charges Node core to its caller, leaves idle out and keeps to the window', () => {
    const b = breakdown(profile, 1_000_000, 1_005_000);
    expect(b.busyMs).toBeCloseTo(4);
    expect(b.bySelf).toEqual({ 'Node.js core': 2, pg: 1, 'V8: garbage collector': 1 });
    expect(b.byCaller).toEqual({ pg: 3, 'V8: garbage collector': 1 });
    expect(Object.keys(b.topFunctions)[0]).toBe('writev (Node.js core:1)');
  });

  it('counts nothing outside the window', () => {
    expect(breakdown(profile, 2_000_000, 3_000_000).busyMs).toBe(0);
  });
});
