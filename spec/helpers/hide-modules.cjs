// Preloaded with `node --require` to make packages look uninstalled: each name listed in
// HIDE_MODULES (comma-separated) fails to resolve as if it were missing from node_modules.
const Module = require("node:module");

const hidden = new Set((process.env.HIDE_MODULES ?? "").split(",").filter(Boolean));
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (hidden.has(request) || [...hidden].some((name) => request.startsWith(`${name}/`))) {
    const error = new Error(`Cannot find module '${request}'`);
    error.code = "MODULE_NOT_FOUND";
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
