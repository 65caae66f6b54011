import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseRequestBody, type RequestFields } from "../../src/core/request-form.ts";
import {
  MAX_JUSTIFICATION_CHARS,
  MIN_JUSTIFICATION_CHARS,
  validateRequest,
} from "../../src/core/request-validation.ts";
import type { FieldError } from "../../src/core/result.ts";
import type { Policy } from "../../src/core/types.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { policy } from "../support/policy-fixture.ts";

const HOUR = 3600;

const DRILL_ON = { enabled: true, targets: { time_to_grant_seconds: 300, time_to_revoke_seconds: 300 } };
const POLICIES: ReadonlyMap<string, Policy> = new Map([
  ["prod-database", policy("prod-database")],
  [
    "aws-production",
    policy("aws-production", { roles: { readonly: { provider: "aws", settings: {} } }, drill: DRILL_ON }),
  ],
  [
    "drill",
    policy("drill", {
      roles: { responder: { provider: "jwt", settings: {} } },
      max_duration_seconds: HOUR,
      default_duration_seconds: 1800,
      drill: DRILL_ON,
    }),
  ],
]);

const GOOD: RequestFields = {
  resource: "prod-database",
  role: "read",
  duration: "2h",
  severity: "high",
  justification: "Primary is failing over; I need to read replication state to decide on promotion.",
  incident: "https://status.example.com/incidents/42",
  drill: false,
};

function accepted(fields: Partial<RequestFields>, policies = POLICIES) {
  const result = validateRequest({ ...GOOD, ...fields }, policies);
  if (!result.ok) assert.fail(`expected the request to be valid, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function refused(fields: Partial<RequestFields>, policies = POLICIES): FieldError[] {
  const result = validateRequest({ ...GOOD, ...fields }, policies);
  if (result.ok) assert.fail(`expected errors, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function onlyError(fields: Partial<RequestFields>, field: keyof RequestFields): string {
  const list = refused(fields);
  assert.deepEqual(
    list.map((e) => e.field),
    [field],
    JSON.stringify(fields),
  );
  return list[0]!.message;
}

describe("validateRequest: a valid request", () => {
  test("becomes a typed AccessRequest", () => {
    assert.deepEqual(accepted({}), {
      resource: "prod-database",
      role: "read",
      duration_seconds: 2 * HOUR,
      severity: "high",
      justification: GOOD.justification,
      incident: "https://status.example.com/incidents/42",
      drill: false,
    });
  });

  test("an empty duration takes the policy default", () => {
    assert.equal(accepted({ duration: null }).duration_seconds, HOUR);
    assert.equal(accepted({ duration: "  " }).duration_seconds, HOUR);
    assert.equal(
      accepted({ resource: "drill", role: "responder", drill: true, duration: null }).duration_seconds,
      1800,
    );
  });

  test("a default above the policy maximum is capped at the maximum", () => {
    const broken = new Map([
      ["prod-database", policy("prod-database", { default_duration_seconds: 10 * HOUR })],
    ]);
    assert.equal(accepted({ duration: null }, broken).duration_seconds, 4 * HOUR);
  });

  test("severity is matched without regard to case and stored in lower case", () => {
    assert.equal(accepted({ severity: "CRITICAL" }).severity, "critical");
    for (const s of ["low", "medium", "high", "critical"])
      assert.equal(accepted({ severity: s }).severity, s);
  });

  test("the justification is stored trimmed, with inner text unchanged", () => {
    const text = "<b>Replica</b> @acme/dba lag is 20 minutes\n\n<!-- breakglass -->";
    assert.equal(accepted({ justification: `  \n${text}\n ` }).justification, text);
  });

  test("no incident is fine", () => {
    assert.equal(accepted({ incident: null }).incident, null);
    assert.equal(accepted({ incident: "  " }).incident, null);
  });
});

describe("validateRequest: resource and role", () => {
  test("an unknown resource lists the available ones, sorted", () => {
    assert.equal(
      onlyError({ resource: "prod-db" }, "resource"),
      'There is no resource "prod-db". Choose one of: aws-production, drill, prod-database.',
    );
  });

  test("with no policies at all, the message says so", () => {
    const list = refused({}, new Map());
    assert.deepEqual(list, [
      {
        field: "resource",
        message: 'There is no resource "prod-database": this repository has no policies in policies/ yet.',
      },
    ]);
  });

  test("an unknown role lists the policy's roles", () => {
    assert.equal(
      onlyError({ role: "superuser" }, "role"),
      '"superuser" is not a role of prod-database. Roles: admin, read. Ask for the least you need.',
    );
    assert.match(onlyError({ role: "Read" }, "role"), /is not a role/);
    assert.match(onlyError({ role: "readonly" }, "role"), /Roles: admin, read/);
  });

  test("role names that exist on every object are not roles", () => {
    for (const role of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
      assert.match(onlyError({ role }, "role"), /is not a role of prod-database/, role);
    }
  });

  test("a long hostile value is echoed on one bounded line", () => {
    const message = onlyError({ role: `x\n@admins ${"y".repeat(500)}` }, "role");
    assert.ok(!message.includes("\n"));
    assert.match(message, /^"x @admins y{50}…" is not a role/);
  });
});

describe("validateRequest: duration", () => {
  const ok: Array<[string, number]> = [
    ["90m", 5400],
    ["1h30m", 5400],
    ["PT2H", 7200],
    ["4h", 4 * HOUR],
    ["240m", 4 * HOUR],
    ["45s", 45],
  ];
  for (const [input, seconds] of ok) {
    test(`accepts ${input}`, () => assert.equal(accepted({ duration: input }).duration_seconds, seconds));
  }

  const bad: Array<[string, RegExp]> = [
    [
      "4h1s",
      /^The duration "4h1s" is longer than 4h, the most prod-database allows\. Ask for 4h or less; you can extend later\.$/,
    ],
    ["1d", /longer than 4h/],
    ["99999h", /longer than 7d, the most anything may last/],
    ["0", /has no unit/],
    ["0h", /is zero/],
    ["-1h", /is negative/],
    ["1e9s", /is not a duration/],
    ["١h", /is not a duration/],
    ["２h", /is not a duration/],
    ["1.5h", /is not a duration/],
    ["forever", /is not a duration/],
  ];
  for (const [input, message] of bad) {
    test(`refuses ${JSON.stringify(input)}`, () =>
      assert.match(onlyError({ duration: input }, "duration"), message));
  }

  test("the policy maximum is stated in human form", () => {
    const tight = new Map([["prod-database", policy("prod-database", { max_duration_seconds: 5400 })]]);
    assert.match(refused({ duration: "2h" }, tight)[0]!.message, /longer than 1h30m/);
  });

  test("a bad duration is reported even when the resource is unknown", () => {
    assert.deepEqual(
      refused({ resource: "nope", duration: "-1h" }).map((e) => e.field),
      ["resource", "duration"],
    );
  });
});

describe("validateRequest: severity, justification, incident", () => {
  test("an unknown severity lists the four", () => {
    assert.equal(
      onlyError({ severity: "urgent" }, "severity"),
      'Severity "urgent" is not one of low, medium, high, critical. Pick the one that matches the impact right now.',
    );
    assert.match(onlyError({ severity: "high, critical" }, "severity"), /is not one of/);
  });

  test(`the justification needs ${MIN_JUSTIFICATION_CHARS} characters`, () => {
    assert.equal(accepted({ justification: "Replica lag at 20min" }).justification.length, 20);
    assert.match(
      onlyError({ justification: "Replica lag at 20mi" }, "justification"),
      /too short \(19 characters\)\. In at least 20 characters/,
    );
    assert.match(
      onlyError({ justification: "fix                    it" }, "justification"),
      /too short \(6 characters\)/,
    );
  });

  test(`the justification may have at most ${MAX_JUSTIFICATION_CHARS} characters, counted as characters not UTF-16 units`, () => {
    assert.equal(
      accepted({ justification: "a".repeat(MAX_JUSTIFICATION_CHARS) }).justification.length,
      MAX_JUSTIFICATION_CHARS,
    );
    assert.match(
      onlyError({ justification: "a".repeat(MAX_JUSTIFICATION_CHARS + 1) }, "justification"),
      /4001 characters, over the 4000 limit/,
    );
    const emoji = `Database is down ${"🔥".repeat(3000)}`;
    assert.ok(emoji.length > MAX_JUSTIFICATION_CHARS && [...emoji].length < MAX_JUSTIFICATION_CHARS);
    assert.ok(accepted({ justification: emoji }));
  });

  test("a justification of only punctuation, symbols or whitespace is refused", () => {
    for (const text of [
      "!!!!!!!!!!!!!!!!!!!!!!!!",
      ". . . . . . . . . . . . .",
      "🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥",
      "-- ?? !! -- ?? !! -- ok",
      "\u200b".repeat(30),
    ]) {
      assert.match(
        onlyError({ justification: text }, "justification"),
        /mostly punctuation or symbols|too short/,
        text,
      );
    }
    assert.ok(accepted({ justification: "主数据库正在故障切换需要读取复制状态" + "以便决定" }));
  });

  const incidents: Array<[string, boolean]> = [
    ["https://status.example.com/incidents/42", true],
    ["https://github.com/acme/ops/issues/7#issuecomment-1", true],
    ["#123", true],
    ["acme/ops#123", true],
    ["acme-corp/ops.repo_1#9", true],
    ["http://status.example.com/1", false],
    ["javascript:alert(1)", false],
    ["data:text/html,<script>alert(1)</script>", false],
    ["https:status.example.com", false],
    ["https:///status.example.com", false],
    ["https://github.com@evil.example/acme", false],
    ["https://user:pass@status.example.com/", false],
    ["https://status.example.com/a b", false],
    ["https://status.example.com/\u202eexe.txt", false],
    ["https://status.example.com/\u0000", false],
    ["[INC-42](https://status.example.com/42)", false],
    ["INC-42", false],
    ["#0", false],
    ["#١٢", false],
    ["#12345678901", false],
    ["-acme/ops#1", false],
    ["acme/ops#", false],
    [`https://example.com/${"a".repeat(2000)}`, false],
  ];
  for (const [incident, valid] of incidents) {
    test(`incident ${JSON.stringify(incident.slice(0, 50))} is ${valid ? "accepted" : "refused"}`, () => {
      if (valid) assert.equal(accepted({ incident }).incident, incident);
      else assert.match(onlyError({ incident }, "incident"), /https URL, or `#123` \/ `owner\/repo#123`/);
    });
  }

  test("incident messages say what is wrong", () => {
    assert.match(
      onlyError({ incident: "http://x.example" }, "incident"),
      /must start with https:\/\/ \(got http:\)/,
    );
    assert.match(
      onlyError({ incident: "https://github.com@evil.example" }, "incident"),
      /must not contain a user name or password/,
    );
    assert.match(
      onlyError({ incident: "[x](https://a.example)" }, "incident"),
      /Markdown link\. Paste just the URL/,
    );
    assert.match(onlyError({ incident: "see ticket" }, "incident"), /contains spaces/);
    assert.match(onlyError({ incident: "https://a.example/\u200b" }, "incident"), /invisible characters/);
  });
});

describe("validateRequest: drills", () => {
  test("the drill resource requires the drill box", () => {
    assert.equal(
      onlyError({ resource: "drill", role: "responder", duration: null, drill: false }, "drill"),
      'The drill resource is only for practice: tick "This is a drill". For real access, choose the real resource.',
    );
    assert.equal(
      accepted({ resource: "drill", role: "responder", duration: "30m", drill: true }).drill,
      true,
    );
  });

  test("a drill is refused on a resource that does not allow drills", () => {
    assert.match(
      onlyError({ drill: true }, "drill"),
      /^prod-database does not allow drills\. Untick "This is a drill" for a real request, or choose the drill resource/,
    );
  });

  test("a drill on a real resource that allows them is accepted", () => {
    assert.equal(accepted({ resource: "aws-production", role: "readonly", drill: true }).drill, true);
  });
});

describe("validateRequest: collects every problem", () => {
  test("one error per bad field, named as the form ids", () => {
    const list = refused({
      role: "root",
      duration: "9h",
      severity: "sev1",
      justification: "pls",
      incident: "ftp://x",
      drill: true,
    });
    assert.deepEqual(
      list.map((e) => e.field),
      ["role", "duration", "severity", "justification", "incident", "drill"],
    );
  });

  test("an unknown resource still reports the fields that can be checked without a policy", () => {
    const list = refused({
      resource: "x",
      role: "root",
      severity: "sev1",
      justification: "pls",
      incident: "x y",
    });
    assert.deepEqual(
      list.map((e) => e.field),
      ["resource", "severity", "justification", "incident"],
    );
  });
});

describe("parse then validate", () => {
  const form = readFileSync(
    new URL("../../.github/ISSUE_TEMPLATE/breakglass-request.yml", import.meta.url),
    "utf8",
  );

  test("a body from the form becomes the request it describes", () => {
    const body = requestFormBody({
      resource: "aws-production",
      role: "readonly",
      duration: "PT1H",
      severity: "critical",
      incident: "acme/ops#12",
      drill: true,
    });
    const fields = parseRequestBody(body, form);
    assert.ok(fields.ok);
    assert.deepEqual(validateRequest(fields.value, POLICIES), {
      ok: true,
      value: {
        resource: "aws-production",
        role: "readonly",
        duration_seconds: HOUR,
        severity: "critical",
        justification:
          "Production incident: the primary is failing over and we need to inspect replication state now.",
        incident: "acme/ops#12",
        drill: true,
      },
    });
  });

  test("every resource option of the form that has a policy here validates", () => {
    for (const resource of ["prod-database", "aws-production", "drill"]) {
      const role = Object.keys(POLICIES.get(resource)!.roles)[0]!;
      const fields = parseRequestBody(requestFormBody({ resource, role, drill: resource === "drill" }), form);
      assert.ok(fields.ok && validateRequest(fields.value, POLICIES).ok, resource);
    }
  });
});
