import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
import type { ActionCore } from "../../src/action/action-core.ts";
import { INPUTS, OUTPUTS } from "../../src/action/contract.ts";

const action = yaml.load(readFileSync("action.yml", "utf8")) as {
  inputs: Record<string, { description: string; required: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post: string };
};

test("action.yml declares exactly the inputs of the typed registry, with the same defaults", () => {
  assert.deepEqual(Object.keys(action.inputs).sort(), Object.keys(INPUTS).sort());
  for (const [name, spec] of Object.entries(INPUTS)) {
    const declared = action.inputs[name]!;
    assert.equal(declared.description, spec.description, `description of ${name}`);
    assert.equal(declared.required, spec.required, `required of ${name}`);
    assert.equal(declared.default, "default" in spec ? spec.default : undefined, `default of ${name}`);
  }
});

test("action.yml declares exactly the outputs of the typed registry", () => {
  assert.deepEqual(Object.keys(action.outputs).sort(), Object.keys(OUTPUTS).sort());
  for (const [name, description] of Object.entries(OUTPUTS))
    assert.equal(action.outputs[name]!.description, description);
});

test("the Action runs on node24 from the committed bundle, with a post step", () => {
  assert.equal(action.runs.using, "node24");
  assert.equal(action.runs.main, "dist/index.js");
  assert.equal(action.runs.post, "dist/post.js");
});

test("the Action's core takes only the contract's input and output names (checked by the typecheck, npm run check)", () => {
  const read: string[] = [];
  const written: string[] = [];
  const fake: Pick<ActionCore, "getInput" | "setOutput"> = {
    getInput: (name) => (read.push(name), ""),
    setOutput: (name) => void written.push(name),
  };
  fake.getInput("app-url");
  fake.setOutput("grant-id", "g1");
  // @ts-expect-error: not an input of action.yml (the input is app-url)
  fake.getInput("app_url");
  // @ts-expect-error: not an output of action.yml
  fake.setOutput("token", "secret");
  assert.deepEqual(read, ["app-url", "app_url"]);
  assert.deepEqual(written, ["grant-id", "token"]);
});
