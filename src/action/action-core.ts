import type * as actionsCore from "@actions/core";

/** The part of @actions/core the Action uses, so tests can pass a recording fake. */
export type ActionCore = Pick<
  typeof actionsCore,
  "getInput" | "getBooleanInput" | "getIDToken" | "setSecret" | "exportVariable" | "setOutput" | "saveState" | "getState" | "info" | "warning" | "setFailed" | "summary"
>;
