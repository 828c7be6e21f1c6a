// The CLI's own failures: one line for the operator, no stack trace.

/** A failure the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Wrong arguments: exit code 2, as usage errors conventionally have. */
export const usageError = (message: string): CliError => new CliError(`${message} (see --help)`, 2);
