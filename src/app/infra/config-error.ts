/** A setting the app cannot start without is missing or wrong: the message names the variable and what to set. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The one log line a refused start prints (pino's shape, level fatal), so log pipelines read it like any other. */
export function configErrorLine(error: ConfigError, nowMs: number): string {
  return JSON.stringify({
    level: 60,
    time: nowMs,
    msg: `Breakglass did not start: ${error.message}`,
    variable: error.variable,
    code: "config_error",
  });
}
