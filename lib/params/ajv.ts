// The package's own ajv instance: compiled once, no coercion (it would define "integer" more
// loosely than Synapse does), first error only (every error is one 400 anyway, and collecting
// all of them is wasted work an attacker controls).

import Ajv from "ajv";

export const ajv = new Ajv({
  allErrors: false,
  coerceTypes: false,
  useDefaults: true,
  $data: true,
  strict: true,
});
