// Two projects. `unit`: pure tests that need no database, no server and no build, so that
// `npm run test:unit` answers in seconds. `integration`: everything else, against real SQLite and
// real PostgreSQL (embedded when no URL is given, started once by globalSetup).

// Pure tests outside spec/unit/ are listed here by name.
const UNIT_TESTS = ["<rootDir>/spec/unit/**/*.spec.ts", "<rootDir>/spec/docs/links.spec.ts"];

const shared = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/spec/tsconfig.json" }],
  },
  // Every file records that it finished, for the log audit to wait on (see spec/audit).
  setupFilesAfterEnv: ["<rootDir>/spec/helpers/mark-done.ts"],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: UNIT_TESTS,
      // No database URL reaches a unit test: one that tries to use PostgreSQL fails at once.
      setupFiles: ["<rootDir>/spec/helpers/no-database.ts"],
    },
    {
      ...shared,
      displayName: "integration",
      testMatch: [
        "<rootDir>/spec/**/*.spec.ts",
        ...UNIT_TESTS.map((glob) => glob.replace("<rootDir>", "!**")),
      ],
      globalSetup: "<rootDir>/spec/helpers/global-setup.ts",
      globalTeardown: "<rootDir>/spec/helpers/global-teardown.ts",
    },
  ],
  // The log audit (spec/audit) runs last and waits for every other file to finish.
  testSequencer: "<rootDir>/spec/helpers/sequencer.cjs",
  // Two cores: more workers only queue on the same CPUs and the shared PostgreSQL server.
  maxWorkers: 2,
  // Global, not per project: jest reads the test timeout from the root configuration only.
  testTimeout: 60000,
  // Coverage of the shipped code, lib/ and fixtures/ only (never dist/, bench/ or generated
  // data), as far as the processes jest runs load it: the CLI specs spawn dist/, so the CLI's
  // modules that no test imports count neither way. The thresholds sit a little below the
  // whole suite's level when they were set (statements 84.1%, branches 76.3%, functions 78.9%,
  // lines 85.4%), so that coverage cannot fall silently while noise cannot fail a run; raise
  // them when coverage rises.
  collectCoverageFrom: ["lib/**/*.ts", "fixtures/**/*.ts", "!**/*.d.ts"],
  coverageReporters: ["text-summary", "json-summary"],
  coverageThreshold: {
    global: { statements: 83, branches: 75, functions: 77, lines: 84 },
  },
};
