import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { it } from "node:test";
import { AUDIT_LABEL, REQUEST_LABEL } from "../../src/audit/labels.ts";

// Read as text: importing request-session.ts would load the whole app just to compare two strings.
it("the audit reads the same labels the app writes", async () => {
  const source = await readFile(new URL("../../src/app/request-session.ts", import.meta.url), "utf8");
  assert.match(source, new RegExp(`export const REQUEST_LABEL = ${JSON.stringify(REQUEST_LABEL)};`));
  assert.match(source, new RegExp(`export const AUDIT_LABEL = ${JSON.stringify(AUDIT_LABEL)};`));
});
