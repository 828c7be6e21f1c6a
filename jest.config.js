// Tests run against real SQLite and real PostgreSQL (embedded when no URL is given).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/spec/tsconfig.json" }],
  },
  globalSetup: "<rootDir>/spec/helpers/global-setup.ts",
  globalTeardown: "<rootDir>/spec/helpers/global-teardown.ts",
  // The log audit (spec/audit) runs last and waits for every other file to finish.
  testSequencer: "<rootDir>/spec/helpers/sequencer.cjs",
  setupFilesAfterEnv: ["<rootDir>/spec/helpers/mark-done.ts"],
  testTimeout: 60000,
  // Two cores: more workers only queue on the same CPUs and the shared PostgreSQL server.
  maxWorkers: 2,
};
