// `npm run bench:indexes`: what the optional indexes of the README cost. Their size beside the
// media table, and the time they add to an upload (one single-row INSERT per transaction, as
// Synapse makes them), timed in blocks that alternate between databases without and with each
// index. Usage: npm run bench:indexes -- [--database postgres://server] [--preload 200000]
//   [--inserts 20000] [--only sqlite|postgres]

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Knex } from "knex";
import {
  bulkInsertMedia,
  createPostgresDatabase,
  createSynapseSchema,
  openPostgres,
  openSqlite,
  realisticMediaRows,
  startEmbeddedPostgres,
  type MediaRow,
} from "../fixtures";
import {
  closeAll,
  makeArm,
  openPostgresArm,
  openSqliteArm,
  timeUploads,
  type Arm,
  type ArmResult,
} from "./summary-bench-arms";

const RESULTS = resolve(__dirname, "../../bench-results");

const INDEXES = {
  covering:
    "CREATE INDEX media_usage_covering ON local_media_repository (user_id, created_ts, media_length)",
  window:
    "CREATE INDEX media_usage_window ON local_media_repository (created_ts, user_id, media_length)",
} as const;
type IndexName = keyof typeof INDEXES;

interface Sizes {
  table: number;
  indexes: Record<string, number>;
}

async function sizes(db: Knex, kind: "sqlite" | "postgres"): Promise<Sizes> {
  const rows: Array<{ name: string; bytes: number | string }> =
    kind === "postgres"
      ? (
          await db.raw<{ rows: Array<{ name: string; bytes: string }> }>(
            `SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_class c
              WHERE c.relname = 'local_media_repository'
                 OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'local_media_repository'::regclass)`,
          )
        ).rows
      : await db.raw<Array<{ name: string; bytes: number }>>(
          "SELECT d.name AS name, SUM(d.pgsize) AS bytes FROM dbstat AS d JOIN sqlite_master AS s ON s.name = d.name WHERE s.tbl_name = 'local_media_repository' GROUP BY d.name",
        );
  const indexes: Record<string, number> = {};
  let table = 0;
  for (const row of rows) {
    if (row.name === "local_media_repository") table = Number(row.bytes);
    else indexes[row.name] = Number(row.bytes);
  }
  return { table, indexes };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: "string" },
      preload: { type: "string", default: "200000" },
      inserts: { type: "string", default: "20000" },
      block: { type: "string", default: "500" },
      only: { type: "string" },
    },
  });
  const preload = Number(values.preload);
  const inserts = Number(values.inserts);
  const block = Number(values.block);
  const uploaders = Math.max(1, Math.floor(preload / 10));
  const rows = [...realisticMediaRows({ seed: 11, uploaders, media: preload + inserts })];
  const preloaded = rows.slice(0, preload);
  const uploads: MediaRow[] = rows.slice(preload);
  const report: Record<string, unknown> = { preload, inserts, block };
  mkdirSync(RESULTS, { recursive: true, mode: 0o755 });

  const variants: Array<{ name: string; indexes: IndexName[] }> = [
    { name: "Synapse's indexes only", indexes: [] },
    { name: "+ covering index", indexes: ["covering"] },
    { name: "+ window index", indexes: ["window"] },
  ];

  if (values.only !== "postgres") {
    const dir = mkdtempSync(join(tmpdir(), "sas-index-cost-"));
    try {
      const base = join(dir, "base.sqlite");
      const db = openSqlite(base);
      await createSynapseSchema(db);
      await bulkInsertMedia(db, preloaded);
      await db.destroy();
      const arms: Arm[] = [];
      const sizesBy: Record<string, Sizes> = {};
      // The window index is for PostgreSQL's time windows; on SQLite only the covering one counts.
      for (const variant of variants.slice(0, 2)) {
        const file = join(dir, `${variant.indexes.join("-") || "none"}.sqlite`);
        copyFileSync(base, file);
        const knex = openSqliteArm(file, "NORMAL");
        arms.push(await makeArm(variant.name, knex, "sqlite"));
        for (const index of variant.indexes) await knex.raw(INDEXES[index]);
        sizesBy[variant.name] = await sizes(knex, "sqlite");
      }
      try {
        report.sqlite = { sizes: sizesBy, uploads: await timeUploads(arms, uploads, block) };
      } finally {
        await closeAll(arms);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  if (values.only !== "sqlite") {
    const embedded = values.database ? undefined : await startEmbeddedPostgres();
    const server = values.database ?? (embedded?.url as string);
    const admin = openPostgres(server, { min: 0, max: 1 });
    const names: string[] = [];
    try {
      const base = `sas_index_cost_${process.pid}`;
      const db = openPostgres(await createPostgresDatabase(server, base));
      names.push(base);
      await createSynapseSchema(db);
      await bulkInsertMedia(db, preloaded);
      await db.raw("VACUUM ANALYZE local_media_repository");
      await db.destroy();
      const arms: Arm[] = [];
      const sizesBy: Record<string, Sizes> = {};
      for (const variant of variants) {
        const name = `${base}_${variant.indexes.join("_") || "none"}`;
        const knex = openPostgresArm(
          await createPostgresDatabase(server, name, { template: base }),
          false,
        );
        names.push(name);
        for (const index of variant.indexes) await knex.raw(INDEXES[index]);
        sizesBy[variant.name] = await sizes(knex, "postgres");
        arms.push(await makeArm(variant.name, knex, "postgres"));
      }
      try {
        report.postgres = { sizes: sizesBy, uploads: await timeUploads(arms, uploads, block) };
      } finally {
        await closeAll(arms);
      }
    } finally {
      for (const name of names.reverse())
        await admin.raw("DROP DATABASE IF EXISTS ?? WITH (FORCE)", [name]);
      await admin.destroy();
      await embedded?.stop();
    }
  }

  const lines = [
    "",
    `Optional indexes: ${preload.toLocaleString("en")} media preloaded, ${inserts.toLocaleString("en")} single-row uploads per arm in alternating blocks of ${block}:`,
  ];
  lines.push(
    "| database | indexes | index size / table size | µs per upload | ratio |",
    "| --- | --- | --- | --- | --- |",
  );
  for (const kind of ["sqlite", "postgres"] as const) {
    const section = report[kind] as
      { sizes: Record<string, Sizes>; uploads: ArmResult[] } | undefined;
    if (!section) continue;
    for (const result of section.uploads) {
      const measured = section.sizes[result.arm] as Sizes;
      const added = Object.entries(measured.indexes)
        .filter(([name]) => name.startsWith("media_usage_"))
        .map(([, bytes]) => `${((100 * bytes) / measured.table).toFixed(0)}%`)
        .join(", ");
      lines.push(
        `| ${kind} | ${result.arm} | ${added || "—"} | ${result.microsPerOperation} | ${result.ratio.toFixed(2)} |`,
      );
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  const file = join(RESULTS, `index-cost-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  process.stdout.write(`Written to ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:indexes failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  // Half-made databases may still hold connections open: leave anyway.
  process.exit(1);
});
