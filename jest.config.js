/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  // Socket tests share two cores with their own servers: run files one at a
  // time in a single worker so timings stay sane and fds are not contended.
  maxWorkers: 1,
  testTimeout: 30000,
};
