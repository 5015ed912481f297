/** A setting the operator must fix: printed as its message alone, one line, never with a stack. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
