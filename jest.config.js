/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Crawl only the sources and tests: .cache/ holds the cross-platform
  // checks' Node builds, wine prefix and staged package copies (17k files,
  // package.json files named edgeio). Files elsewhere (examples/, native/,
  // bench/) are still required and transformed by path.
  roots: ['<rootDir>/src', '<rootDir>/test'],
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  // Socket tests share two cores with their own servers: run files one at a
  // time in a single worker so timings stay sane and fds are not contended.
  maxWorkers: 1,
  testTimeout: 30000,
};
