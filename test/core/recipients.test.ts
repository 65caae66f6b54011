import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRecipients } from "../../src/core/recipients.ts";

const KEY = "age14hyj0l4lwy09p2chz3zmdtvcqjtksn9h43mxzntwy9uuxt8rgsjsyws5fn";

test("reads login → recipient, case-insensitively by login", () => {
  const r = parseRecipients(`# who may receive credentials interactively\nDave: ${KEY}\n`);
  assert.deepEqual([...r.byLogin], [["dave", KEY]]);
  assert.deepEqual(r.errors, []);
});

test("an absent or empty file lists nobody, without errors", () => {
  assert.equal(parseRecipients(null).byLogin.size, 0);
  assert.equal(parseRecipients("  \n").byLogin.size, 0);
});

test("bad entries are skipped and named; good ones still count", () => {
  const r = parseRecipients(`dave: ${KEY}\nmallory: ssh-ed25519 AAAAC3Nza\n"not a login!": ${KEY}\n`);
  assert.deepEqual([...r.byLogin.keys()], ["dave"]);
  assert.equal(r.errors.length, 2);
  assert.match(r.errors.join("\n"), /mallory is not an age recipient/);
  assert.match(r.errors.join("\n"), /not a GitHub login/);
});

test("a person listed twice (by case) gets no key at all: no guessing which one is theirs", () => {
  const r = parseRecipients(`dave: ${KEY}\nDAVE: ${KEY.replace("4", "5")}\n`);
  assert.equal(r.byLogin.has("dave"), false);
  assert.match(r.errors[0]!, /listed twice/);
});

test("YAML that is not a mapping, or not YAML at all, is one clear error", () => {
  assert.match(parseRecipients("- dave\n").errors[0]!, /must be a mapping/);
  assert.match(parseRecipients("dave: [\n").errors[0]!, /not valid YAML/);
});

test("a file over 64 KiB is refused whole (a recipients list is a few lines)", () => {
  const r = parseRecipients(`dave: ${KEY}\n# ${"x".repeat(70 * 1024)}\n`);
  assert.equal(r.byLogin.size, 0);
  assert.match(r.errors[0]!, /over 64 KiB/);
});
