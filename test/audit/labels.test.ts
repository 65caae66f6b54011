import assert from "node:assert/strict";
import { it } from "node:test";
import { AUDIT_LABEL, REQUEST_LABEL } from "../../src/audit/labels.ts";
import * as app from "../../src/app/infra/request-session.ts";

it("the audit reads the same labels the app writes", () => {
  assert.equal(REQUEST_LABEL, app.REQUEST_LABEL);
  assert.equal(AUDIT_LABEL, app.AUDIT_LABEL);
  assert.equal(REQUEST_LABEL, "breakglass");
});
