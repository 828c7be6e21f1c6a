// The README's examples are real: every TypeScript block type-checks against the built package,
// and the mounting example runs and answers a request.

import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import {
  createSynapseSchema,
  createScratchPostgres,
  freePort,
  insertAccounts,
  insertMedia,
  STANDARD_ACCOUNTS,
  STANDARD_TOKENS,
  type ScratchDatabase,
} from "../../fixtures";
import { postgresServerUrl } from "../helpers/databases";
import { typeCheck } from "../helpers/typecheck";

const root = resolve(__dirname, "../..");
// Inside the package, so that `synapse-admin-statistics` resolves to this package's build.
const workDir = join(root, "spec", ".tmp", `readme-${process.pid}`);
const readme = readFileSync(join(root, "README.md"), "utf8");

const typeScriptBlocks = (): string[] =>
  [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");

const markedBlock = (name: string): string => {
  const match = new RegExp(
    `<!-- readme-example: ${name} -->\\n+\`\`\`ts\\n([\\s\\S]*?)\`\`\``,
  ).exec(readme);
  if (!match?.[1]) throw new Error(`README has no example marked ${name}`);
  return match[1];
};

beforeAll(() => mkdirSync(workDir, { recursive: true }));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

test("every TypeScript example in the README type-checks against the package", () => {
  const blocks = typeScriptBlocks();
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  const files = blocks.map((block, index) => {
    const file = join(workDir, `example-${index}.mts`);
    writeFileSync(file, `${block}\nexport {};\n`);
    return file;
  });
  const output = typeCheck(workDir, files, { skipLibCheck: true });
  expect(output).toBe("");
}, 60_000);

describe("the README's mounting example", () => {
  let database: ScratchDatabase;
  beforeAll(async () => {
    database = await createScratchPostgres(postgresServerUrl(), { prefix: "sas_readme" });
    await createSynapseSchema(database.knex);
    await insertAccounts(database.knex, STANDARD_ACCOUNTS);
    await insertMedia(database.knex, [
      { media_id: "r1", user_id: "@reader:test", media_length: 42, created_ts: 1 },
    ]);
  });
  afterAll(() => database.drop());

  test("runs as written and serves the admin API", async () => {
    const compiled = ts.transpileModule(markedBlock("mount"), {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    }).outputText;
    const file = join(workDir, "mount.cjs");
    writeFileSync(file, compiled);
    const port = await freePort();
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, DATABASE_URL: database.url, PORT: String(port) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const url = `http://127.0.0.1:${port}/_synapse/admin/v1/statistics/users/media`;
      let response: Response | undefined;
      for (let attempt = 0; attempt < 100 && response === undefined; attempt++) {
        response = await fetch(url, {
          headers: { Authorization: `Bearer ${STANDARD_TOKENS.admin}` },
        }).catch(() => new Promise<undefined>((done) => setTimeout(() => done(undefined), 100)));
      }
      expect(stderr).toBe("");
      expect(response?.status).toBe(200);
      expect(await response?.json()).toEqual({
        users: [{ user_id: "@reader:test", displayname: null, media_count: 1, media_length: 42 }],
        total: 1,
      });
    } finally {
      child.kill();
    }
  }, 30_000);
});
