// Runs in every test file: records that the file has finished, for the log audit to wait on.

import { markFileDone } from "./test-run";

afterAll(() => {
  markFileDone(expect.getState().testPath ?? "unknown");
});
