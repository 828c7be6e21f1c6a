// The unit project's environment: no database URL, so that a test which reaches for PostgreSQL
// fails at once instead of quietly becoming an integration test on a developer's machine.

delete process.env.TEST_PG_URL;
delete process.env.DATABASE_URL;
