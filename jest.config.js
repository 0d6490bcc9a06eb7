// Three projects: unit tests need no servers; component and e2e tests use the real
// Kafka, RabbitMQ and PostgreSQL that `infra/local.sh up` starts.
// @platformatic/kafka (and its @platformatic helpers) is ESM only. Node loads it with require()
// (services run that way), but jest's CommonJS runtime does so only under
// --experimental-vm-modules, so jest compiles it to CommonJS like the sources instead.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  '/node_modules/@platformatic/.+\\.js$': [
    '@swc/jest',
    { jsc: { target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const transformIgnorePatterns = ['/node_modules/(?!@platformatic/)'];
const moduleNameMapper = {
  // Services that export their domain (the quality evaluation and the stores' test drive it).
  '^@streamtrain/(pipeline)$': '<rootDir>/services/$1/src',
  '^@streamtrain/([a-z-]+)$': '<rootDir>/libs/$1/src',
};
const common = { transform, transformIgnorePatterns, moduleNameMapper, testEnvironment: 'node' };

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/jest.global-setup.ts',
  globalTeardown: '<rootDir>/jest.global-teardown.ts',
  collectCoverageFrom: [
    'libs/*/src/**/*.ts',
    'services/*/src/**/*.ts',
    '!**/__tests__/**',
    '!**/main.ts',
    '!**/index.ts',
  ],
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: { global: { lines: 80, functions: 80, branches: 65, statements: 80 } },
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/{libs,services}/*/src/**/__tests__/*.test.ts',
        '<rootDir>/bench/src/**/__tests__/*.test.ts',
      ],
    },
    {
      ...common,
      displayName: 'component',
      testMatch: ['<rootDir>/{libs,services}/*/test/**/*.test.ts'],
      slowTestThreshold: 30,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/src/**/*.e2e.test.ts'],
      slowTestThreshold: 120,
    },
  ],
};
