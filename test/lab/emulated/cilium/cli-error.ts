/** A command-line error the emulated agent CLI reports as cobra does: `Error: <message>`, exit 1. */
export class CliError extends Error {}
