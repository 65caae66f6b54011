import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import yaml from "js-yaml";
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
  for (const [name, description] of Object.entries(OUTPUTS)) assert.equal(action.outputs[name]!.description, description);
});

test("the Action runs on node24 from the committed bundle, with a post step", () => {
  assert.equal(action.runs.using, "node24");
  assert.equal(action.runs.main, "dist/index.js");
  assert.equal(action.runs.post, "dist/post.js");
});
