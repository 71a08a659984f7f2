/** A command line that cannot be run as given: the CLI exits with code 2, like the argument parser. */
export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
