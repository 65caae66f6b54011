import type * as actionsCore from "@actions/core";
import type { InputName, OutputName } from "./contract.ts";

type Untyped = Pick<
  typeof actionsCore,
  | "getIDToken"
  | "setSecret"
  | "exportVariable"
  | "saveState"
  | "getState"
  | "info"
  | "warning"
  | "setFailed"
  | "summary"
>;

/**
 * The part of @actions/core the Action uses, so tests can pass a recording fake. Inputs and outputs are
 * named by the contract (contract.ts, which action.yml must match): a misspelt input or output is a
 * type error, not an empty string at run time.
 */
export interface ActionCore extends Untyped {
  getInput(name: InputName, options?: actionsCore.InputOptions): string;
  getBooleanInput(name: InputName, options?: actionsCore.InputOptions): boolean;
  setOutput(name: OutputName, value: unknown): void;
}
