// Orders test files as jest would, with the log audit last, and tells the audit (through
// spec/.tmp/run/expected.json) which files it must wait for before it reads the logs.
const { rmSync, mkdirSync, writeFileSync } = require("node:fs");
const { join, resolve } = require("node:path");
const Sequencer = require("@jest/test-sequencer").default;

const RUN_DIR = resolve(__dirname, "../.tmp/run");
const isAudit = (test) => test.path.includes(`${join("spec", "audit")}`);

class AuditLastSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const others = sorted.filter((test) => !isAudit(test));
    rmSync(RUN_DIR, { recursive: true, force: true });
    mkdirSync(RUN_DIR, { recursive: true });
    writeFileSync(join(RUN_DIR, "expected.json"), JSON.stringify(others.map((test) => test.path)));
    return [...others, ...sorted.filter(isAudit)];
  }
}

module.exports = AuditLastSequencer;
