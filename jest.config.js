// Six suites: `unit` (*.test.ts, no infrastructure), `integration` (*.int.test.ts: real daprd, brokers
// and databases), `matrix` (test/matrix: the end-to-end scenario on every broker × SQL engine),
// `reliability` (test/reliability: faults, load and hostile input), `k8s` (*.k8s.test.ts: k8s/ on a
// single-node cluster with Dapr from its Helm chart, tools/cluster) and `soak` (test/soak: a database
// outage longer than 15 minutes; run by hand, not in CI). The last four are slower.
const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // github-slugger (GitHub's own heading anchors, for the docs test) ships as ES modules only.
    '/node_modules/github-slugger/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!github-slugger/)'],
  moduleNameMapper: { '^@portable-dapr/common$': '<rootDir>/common/src' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/.cluster/'],
  // The image builder's layers hold copies of the repository (and its package.json files).
  modulePathIgnorePatterns: ['<rootDir>/.cluster/'],
};

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  // Generous for a busy 2-core machine: a test that hangs still fails, one that is merely slow does not.
  // (A global option: jest ignores it in a project's settings.)
  testTimeout: 600_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: [
        ...shared.testPathIgnorePatterns,
        '\\.int\\.test\\.ts$',
        '\\.k8s\\.test\\.ts$',
        '\\.soak\\.test\\.ts$',
      ],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/*.int.test.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, '/test/reliability/', '/test/matrix/'],
    },
    { ...shared, displayName: 'matrix', testMatch: ['<rootDir>/test/matrix/**/*.int.test.ts'] },
    { ...shared, displayName: 'reliability', testMatch: ['<rootDir>/test/reliability/**/*.int.test.ts'] },
    { ...shared, displayName: 'k8s', testMatch: ['<rootDir>/test/k8s/**/*.k8s.test.ts'] },
    { ...shared, displayName: 'soak', testMatch: ['<rootDir>/test/soak/**/*.soak.test.ts'] },
  ],
};
