import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRequestBody } from "../../src/core/check-request.ts";
import { loadPolicies } from "../../src/core/policy.ts";
import { readRepoFiles } from "../../src/cli/repo-files.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";

const files = await readRepoFiles(process.cwd());
const { policies } = loadPolicies(files.policyFiles);
const form = files.issueFormText!;
const fieldsOf = (body: string) => {
  const result = checkRequestBody(body, form, policies);
  assert.equal(result.ok, false, "expected the body to be refused");
  return result.ok ? [] : result.error.map((e) => e.field);
};

test("a valid body passes both the form and the policy", () => {
  const result = checkRequestBody(
    requestFormBody({ resource: "model-rollback", role: "rollback", duration: "30m" }),
    form,
    policies,
  );
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.value.length, 1);
  assert.equal(result.value[0]!.duration_seconds, 1800);
});

test("form errors and policy errors come together: empty role plus a duration over the maximum", () => {
  assert.deepEqual(
    fieldsOf(requestFormBody({ resource: "model-rollback", role: "", duration: "99999h" })).sort(),
    ["duration", "role"],
  );
});

test("a field the form already reported is not reported twice by the policy check", () => {
  const fields = fieldsOf(
    requestFormBody({ resource: "model-rollback", role: "", duration: "30m", justification: "" }),
  );
  assert.deepEqual(fields.sort(), ["justification", "role"]);
});

test("an unknown resource with an empty role names the resource (the role cannot be checked without one)", () => {
  assert.deepEqual(fieldsOf(requestFormBody({ resource: "the-moon", role: "", duration: "5m" })).sort(), [
    "resource",
    "role",
  ]);
});

test("a duplicated heading is reported, and the other fields are still checked against the policy", () => {
  const body =
    requestFormBody({ resource: "model-rollback", role: "rollback", duration: "1e9s" }) +
    "\n### Role\n\nadmin\n";
  assert.deepEqual(fieldsOf(body).sort(), ["duration", "role"]);
});

test("a body over the size limit is refused on its size alone", () => {
  assert.deepEqual(fieldsOf("x".repeat(70 * 1024)), ["body"]);
});

test("a broken issue form is reported as such, not as field errors", () => {
  const result = checkRequestBody(
    requestFormBody({ resource: "model-rollback", role: "rollback" }),
    "body: [",
    policies,
  );
  assert.equal(result.ok, false);
  assert.deepEqual(result.ok ? [] : result.error.map((e) => e.field), ["form"]);
});

test("a request for a resource whose policy file is invalid says so, with the policy's errors, not 'no such resource'", () => {
  const broken = [{ file: "policies/payments.yml", line: 4, message: "unknown key `rolez`" }];
  const result = checkRequestBody(
    requestFormBody({ resource: "payments", role: "read", duration: "30m" }),
    form,
    policies,
    broken,
  );
  assert.equal(result.ok, false);
  const message = result.ok ? "" : (result.error.find((e) => e.field === "resource")?.message ?? "");
  assert.match(message, /policies\/payments\.yml exists but is invalid/);
  assert.match(message, /policies\/payments\.yml:4: unknown key `rolez`/);
  const other = checkRequestBody(
    requestFormBody({ resource: "the-moon", role: "read", duration: "30m" }),
    form,
    policies,
    broken,
  );
  assert.match(
    other.ok ? "" : other.error[0]!.message,
    /There is no resource "the-moon"/,
    "other unknown names still get the list of resources",
  );
});
