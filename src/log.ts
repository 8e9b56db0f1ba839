export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * A structured log line: callers pass ids and counts as fields, never secrets or tokens. Every
 * module that logs takes one of these (services.log in the worker), so tests can capture lines.
 * @example log("warn", "could not share breaker state", { target })
 */
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/**
 * The worker's log: one JSON object per line on the console.
 * @example consoleLog("info", "spool flushed", { rows: 12 }) // {"level":"info","message":"spool flushed","rows":12}
 */
export const consoleLog: Log = (level, message, fields) => {
  console[level === "debug" ? "log" : level](JSON.stringify({ level, message, ...fields }));
};

/** A log that drops every line: the default where logging is optional. */
export const silentLog: Log = () => {};
