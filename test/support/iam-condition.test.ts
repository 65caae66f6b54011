import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateCondition, trustPolicyAllows } from "./iam-condition.ts";

describe("IAM condition evaluator (test support)", () => {
  it("StringLike: * is any run of characters (none too), ? exactly one, case-sensitive, anchored", () => {
    const like = (pattern: string, value: string) =>
      evaluateCondition({ StringLike: { k: pattern } }, { k: value });
    assert.equal(like("repo:acme/*", "repo:acme/ops:ref:refs/heads/main"), true);
    assert.equal(like("repo:acme/*", "repo:acme/"), true);
    assert.equal(like("repo:acme/o?s", "repo:acme/ops"), true);
    assert.equal(like("repo:acme/o?s", "repo:acme/os"), false, "? is exactly one character");
    assert.equal(like("repo:acme/ops", "repo:ACME/ops"), false, "case-sensitive");
    assert.equal(like("repo:acme/ops", "xrepo:acme/ops"), false, "anchored at the start");
    assert.equal(like("repo:a.c", "repo:abc"), false, "a dot is a dot, not a regex");
    assert.equal(like("*:environment:prod", "repo:x/y:environment:prod"), true);
  });

  it("StringEquals is exact: * and ? are plain characters there", () => {
    assert.equal(evaluateCondition({ StringEquals: { k: "repo:acme/*" } }, { k: "repo:acme/ops" }), false);
    assert.equal(evaluateCondition({ StringEquals: { k: "repo:acme/*" } }, { k: "repo:acme/*" }), true);
    assert.equal(evaluateCondition({ StringEqualsIgnoreCase: { k: "Repo:ACME" } }, { k: "repo:acme" }), true);
  });

  it("a list of values is OR, keys and operators are AND, a missing key is false (true for Not…)", () => {
    const condition = { StringEquals: { a: ["x", "y"], b: "z" } };
    assert.equal(evaluateCondition(condition, { a: "y", b: "z" }), true);
    assert.equal(evaluateCondition(condition, { a: "y", b: "q" }), false);
    assert.equal(evaluateCondition(condition, { a: "y" }), false, "b is missing");
    assert.equal(evaluateCondition({ StringNotEquals: { a: "x" } }, {}), true);
    assert.equal(evaluateCondition({ StringNotLike: { a: ["x*", "y*"] } }, { a: "yes" }), false);
    assert.equal(
      evaluateCondition({ StringEquals: { a: "x" }, StringLike: { b: "z*" } }, { a: "x", b: "q" }),
      false,
    );
  });

  it("refuses what it does not model instead of guessing", () => {
    assert.throws(() => evaluateCondition({ ForAnyValueStringLike: { a: "x" } }, { a: "x" }), /not modelled/);
    assert.throws(
      () => evaluateCondition({ StringEquals: { a: "${aws:username}" } }, { a: "x" }),
      /policy variables/,
    );
  });

  it("an explicit Deny wins over an Allow; principal and action must match", () => {
    const federated = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
    const allow = {
      Effect: "Allow",
      Principal: { Federated: federated },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: { StringEquals: { k: "v" } },
    };
    const request = { federated, action: "sts:AssumeRoleWithWebIdentity", context: { k: "v" } };
    assert.equal(trustPolicyAllows({ Statement: [allow] }, request), true);
    assert.equal(
      trustPolicyAllows(
        { Statement: [allow] },
        { ...request, federated: federated.replace("123456789012", "999999999999") },
      ),
      false,
    );
    assert.equal(trustPolicyAllows({ Statement: [allow] }, { ...request, action: "sts:AssumeRole" }), false);
    assert.equal(trustPolicyAllows({ Statement: [allow, { ...allow, Effect: "Deny" }] }, request), false);
  });
});
