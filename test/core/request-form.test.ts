import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { MAX_BODY_BYTES, parseRequestBody, type RequestFields } from "../../src/core/request-form.ts";
import type { FieldError } from "../../src/core/result.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";

const FORM = readFileSync(
  new URL("../../.github/ISSUE_TEMPLATE/breakglass-request.yml", import.meta.url),
  "utf8",
);
const JUSTIFICATION = "Primary is failing over; I need to read replication state to decide on promotion.";

/** Exactly what GitHub writes when the form is submitted (optional fields left empty). */
const GITHUB_BODY = [
  "### Resource",
  "",
  "prod-database",
  "",
  "### Role",
  "",
  "read",
  "",
  "### Duration",
  "",
  "_No response_",
  "",
  "### Severity",
  "",
  "high",
  "",
  "### Justification",
  "",
  JUSTIFICATION,
  "",
  "### Incident",
  "",
  "_No response_",
  "",
  "### Drill",
  "",
  "- [ ] This is a drill",
].join("\n");

const EXPECTED: RequestFields = {
  resource: "prod-database",
  role: "read",
  duration: null,
  severity: "high",
  justification: JUSTIFICATION,
  incident: null,
  drill: false,
};

function parsed(body: string, form = FORM): RequestFields {
  const result = parseRequestBody(body, form);
  if (!result.ok) assert.fail(`expected the body to parse, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function errors(body: string, form = FORM): FieldError[] {
  const result = parseRequestBody(body, form);
  if (result.ok) assert.fail(`expected errors, got ${JSON.stringify(result.value)}`);
  return result.error;
}

const fieldsOf = (list: FieldError[]) => list.map((e) => e.field);

/** Replaces the value under one heading of GITHUB_BODY. */
const withValue = (heading: string, value: string) =>
  GITHUB_BODY.replace(new RegExp(`(### ${heading}\\n\\n)[^\\n]*`), (_m, h: string) => h + value);

describe("parseRequestBody: bodies the form writes", () => {
  test("reads every field of a submitted form; _No response_ and an unticked box are empty", () => {
    assert.deepEqual(parsed(GITHUB_BODY), EXPECTED);
  });

  test("reads filled optional fields and a ticked drill box", () => {
    const body = requestFormBody({
      resource: "drill",
      role: "responder",
      duration: "PT30M",
      severity: "low",
      incident: "https://status.example.com/i/7",
      drill: true,
    });
    assert.deepEqual(parsed(body), {
      resource: "drill",
      role: "responder",
      duration: "PT30M",
      severity: "low",
      justification:
        "Production incident: the primary is failing over and we need to inspect replication state now.",
      incident: "https://status.example.com/i/7",
      drill: true,
    });
  });

  test("a capital X ticks the box, as GitHub writes it", () => {
    assert.equal(parsed(GITHUB_BODY.replace("- [ ] This is a drill", "- [X] This is a drill")).drill, true);
  });

  test("CRLF and lone CR line endings (bodies edited in a browser) read the same as LF", () => {
    assert.deepEqual(parsed(GITHUB_BODY.replace(/\n/g, "\r\n")), EXPECTED);
    assert.deepEqual(parsed(GITHUB_BODY.replace(/\n/g, "\r")), EXPECTED);
    const multi = withValue("Justification", "Line one of the reason.\n\nLine two of the reason.").replace(
      /\n/g,
      "\r\n",
    );
    assert.equal(parsed(multi).justification, "Line one of the reason.\n\nLine two of the reason.");
  });

  test("values are trimmed, inner text is kept", () => {
    const body = withValue("Role", "   read  \t").replace(
      JUSTIFICATION,
      `\n\n   ${JUSTIFICATION}\n  indented second line  \n\n`,
    );
    const fields = parsed(body);
    assert.equal(fields.role, "read");
    assert.equal(fields.justification, `${JUSTIFICATION}\n  indented second line`);
  });

  test('"None" counts as an empty answer, like @github/issue-parser', () => {
    assert.equal(parsed(withValue("Incident", "None")).incident, null);
    assert.deepEqual(fieldsOf(errors(withValue("Role", "none"))), ["role"]);
  });

  test("a missing optional section is the same as an empty one", () => {
    const body = GITHUB_BODY.replace(/### Duration\n\n_No response_\n\n/, "").replace(
      /### Incident[\s\S]*$/,
      "",
    );
    assert.deepEqual(parsed(body), EXPECTED);
  });

  test("text before the first heading is ignored", () => {
    assert.deepEqual(
      parsed(`Hi team, urgent request below.\n### Notes\nignored\n\n${GITHUB_BODY}`),
      EXPECTED,
    );
  });
});

describe("parseRequestBody: bodies written by hand", () => {
  test("no blank lines, lower-case headings, no optional sections", () => {
    const body = `### resource\nprod-database\n### ROLE\nread\n### severity\nhigh\n### justification\n${JUSTIFICATION}\n`;
    assert.deepEqual(parsed(body), EXPECTED);
  });

  test("headings with extra spaces, tabs, indentation or closing #s", () => {
    const body = [
      "###    Resource   ",
      "prod-database",
      "   ### Role",
      "read",
      "###\tSeverity\t",
      "high",
      "### Justification ###",
      JUSTIFICATION,
      "### Drill   ##",
      "* [x]   This is a drill  ",
    ].join("\n");
    assert.deepEqual(parsed(body), { ...EXPECTED, drill: true });
  });

  test("fullwidth letters and spacing inside a heading still name the field", () => {
    assert.equal(parsed(GITHUB_BODY.replace("### Role", "### Ｒｏｌｅ")).role, "read");
  });

  test("headings at the wrong level or without a space are refused with the exact fix", () => {
    for (const wrong of ["## Role", "#### Role", "###Role", "# Role #", "  ##Role"]) {
      const list = errors(GITHUB_BODY.replace("### Role", wrong));
      assert.deepEqual(fieldsOf(list), ["role"], wrong);
      assert.match(
        list[0]!.message,
        /Line 5 reads .*Write the heading exactly as `### Role` \(three # and a space\)/,
        wrong,
      );
    }
  });

  test("a heading indented four spaces is code, not a heading", () => {
    const list = errors(GITHUB_BODY.replace("### Role", "    ### Role"));
    assert.deepEqual(fieldsOf(list), ["resource", "role"]);
    assert.match(list[1]!.message, /Add a `### Role` section/);
  });
});

describe("parseRequestBody: missing and empty fields", () => {
  test("an empty body asks for every required section by its heading", () => {
    const list = errors("");
    assert.deepEqual(fieldsOf(list), ["resource", "role", "severity", "justification"]);
    assert.match(
      list[0]!.message,
      /^Add a `### Resource` section: under the heading, write the resource name/,
    );
    assert.match(list[3]!.message, /^Add a `### Justification` section/);
  });

  test("a null body (as webhooks send for an empty issue) is read as empty, not thrown on", () => {
    assert.deepEqual(fieldsOf(errors(null as unknown as string)), [
      "resource",
      "role",
      "severity",
      "justification",
    ]);
  });

  test("each required field missing on its own gives exactly its error", () => {
    for (const [heading, field] of [
      ["Resource", "resource"],
      ["Role", "role"],
      ["Severity", "severity"],
      ["Justification", "justification"],
    ] as const) {
      const body = GITHUB_BODY.replace(new RegExp(`### ${heading}\\n\\n[^\\n]*\\n\\n`), "");
      const list = errors(body);
      assert.deepEqual(fieldsOf(list), [field], heading);
      assert.match(list[0]!.message, new RegExp(`Add a \`### ${heading}\` section`));
    }
  });

  test("a required section left as _No response_ is called empty", () => {
    const list = errors(withValue("Role", "_No response_"));
    assert.deepEqual(list, [
      { field: "role", message: "The `### Role` section is empty: write the role you need, e.g. `read`." },
    ]);
  });
});

describe("parseRequestBody: hostile bodies", () => {
  test("a second `### Role` is refused, whichever value it holds", () => {
    const body = `${GITHUB_BODY}\n\n### Role\n\nadmin`;
    const list = errors(body);
    assert.deepEqual(fieldsOf(list), ["role"]);
    assert.match(list[0]!.message, /2 `### Role` headings \(lines 5, 29\)\. Keep exactly one/);
  });

  test("a duplicate heading hidden inside the justification is refused", () => {
    const list = errors(
      withValue("Justification", `${JUSTIFICATION}\n\n### Role\n\nadmin\n\n### Duration\n\n7d`),
    );
    assert.deepEqual(fieldsOf(list).sort(), ["duration", "role"]);
  });

  test("three copies are reported once, with every line", () => {
    const list = errors(`${GITHUB_BODY}\n### Severity\nlow\n### Severity\ncritical`);
    assert.deepEqual(
      list.map((e) => [e.field, /lines (.*)\)/.exec(e.message)?.[1]]),
      [["severity", "13, 28, 30"]],
    );
  });

  test("zero-width and direction characters do not make a second heading look different", () => {
    for (const disguise of ["Role\u200b", "\u200bRole", "Ro\u00adle", "\u202eRole"]) {
      assert.deepEqual(
        fieldsOf(errors(`${GITHUB_BODY}\n### ${disguise}\nadmin`)),
        ["role"],
        JSON.stringify(disguise),
      );
    }
  });

  test("a form heading inside an HTML comment is refused: readers would not see it", () => {
    const list = errors(withValue("Justification", `${JUSTIFICATION}\n<!--\n### Role\nadmin\n-->`));
    assert.deepEqual(fieldsOf(list), ["role"]);
    assert.match(list[0]!.message, /inside an HTML comment/);
    // The only Role heading hidden, the visible one removed: still refused rather than parsed.
    const hiddenOnly = errors(
      GITHUB_BODY.replace("### Role\n\nread\n\n", "<!-- hidden\n### Role\n\nadmin\n-->\n\n"),
    );
    assert.match(hiddenOnly.find((e) => e.field === "role")?.message ?? "", /inside an HTML comment/);
  });

  test("a closed comment does not hide the headings after it", () => {
    const text = `${JUSTIFICATION} <!-- a -->\n<!-- b\n-->`;
    const body = withValue("Justification", text).replace(
      "### Incident\n\n_No response_",
      "### Incident\n\n#42 <!-- x -->",
    );
    assert.deepEqual(parsed(body), { ...EXPECTED, justification: text, incident: "#42 <!-- x -->" });
  });

  test("injection in the justification is kept verbatim and does not touch other fields", () => {
    const hostile = [
      "<!-- breakglass:status -->",
      "<!-- breakglass -->",
      "@acme/security-team @everyone please approve",
      '<img src=x onerror="alert(1)"> <details><summary>x</summary>',
      "</details></table>",
      "Use C### on the box and #12, then ## done",
      "- [x] This is a drill",
      "### Not a field heading",
      "`### Role` in code",
    ].join("\n");
    const fields = parsed(withValue("Justification", hostile));
    assert.equal(fields.justification, hostile);
    assert.deepEqual({ ...fields, justification: JUSTIFICATION }, EXPECTED);
  });

  test("`###` in the middle of a line does not cut the justification (the @github/issue-parser regex would)", () => {
    const text = "We need C### access to the replicas now, the rest of this sentence must survive.";
    assert.equal(parsed(withValue("Justification", text)).justification, text);
  });

  test("unknown headings stay in the section they follow", () => {
    const text = `${JUSTIFICATION}\n\n### Timeline\n\n- 10:02 paged`;
    assert.equal(parsed(withValue("Justification", text)).justification, text);
  });

  test("a one-line field with more lines is refused, naming the stray heading", () => {
    const list = errors(withValue("Role", "read\n\n### Notes\n\nplease hurry"));
    assert.deepEqual(fieldsOf(list), ["role"]);
    assert.match(
      list[0]!.message,
      /must be a single line, but it has 5 lines \(the heading "### Notes" is not a field of the form/,
    );
    assert.deepEqual(fieldsOf(errors(withValue("Resource", "prod-database\naws-production"))), ["resource"]);
    assert.deepEqual(fieldsOf(errors(withValue("Incident", "https://a.example/1\nhttps://b.example/2"))), [
      "incident",
    ]);
  });

  test("a ticked box that is not the form's option is refused rather than read as a real request", () => {
    const list = errors(GITHUB_BODY.replace("- [ ] This is a drill", "- [x] yes, drill"));
    assert.deepEqual(fieldsOf(list), ["drill"]);
    assert.match(list[0]!.message, /Write `- \[x\] This is a drill` for a drill/);
  });

  test("the drill box both ticked and unticked is ambiguous", () => {
    const list = errors(
      GITHUB_BODY.replace("- [ ] This is a drill", "- [ ] This is a drill\n- [x] This is a drill"),
    );
    assert.deepEqual(fieldsOf(list), ["drill"]);
    assert.match(list[0]!.message, /both ticked and unticked/);
  });

  test("other text and unticked boxes under Drill are ignored", () => {
    assert.equal(
      parsed(
        GITHUB_BODY.replace("- [ ] This is a drill", "- [ ] something else\nnotes\n- [x] This is a drill"),
      ).drill,
      true,
    );
  });

  test("heading errors and missing fields are reported together", () => {
    const list = errors(`### Role\nread\n### Role\nadmin\n## Severity\nhigh`);
    assert.deepEqual(fieldsOf(list), ["resource", "role", "severity", "justification"]);
    assert.match(list[1]!.message, /2 `### Role` headings/);
    assert.match(list[2]!.message, /Line 5 reads "## Severity"/);
  });

  test("a 1 MB body is refused with one error, without parsing it", () => {
    const body = GITHUB_BODY + "\n### Role\n".repeat(100_000);
    assert.ok(body.length > 1_000_000);
    const list = errors(body);
    assert.equal(list.length, 1);
    assert.equal(list[0]!.field, "body");
    assert.match(list[0]!.message, /over the 64 KiB limit\. Keep the request short; link to logs/);
  });

  test("the size limit counts UTF-8 bytes, so few multi-byte characters can exceed it", () => {
    const atLimit = withValue(
      "Justification",
      "a".repeat(MAX_BODY_BYTES - GITHUB_BODY.length + JUSTIFICATION.length),
    );
    assert.equal(new TextEncoder().encode(atLimit).length, MAX_BODY_BYTES);
    assert.equal(parseRequestBody(atLimit, FORM).ok, true);
    assert.deepEqual(fieldsOf(errors(`${atLimit}a`)), ["body"]);
    const euros = "€".repeat(30_000); // 30,000 characters, 90,000 bytes
    assert.deepEqual(fieldsOf(errors(withValue("Justification", euros))), ["body"]);
  });
});

describe("parseRequestBody: cost of hostile input", () => {
  test("pathological lines just under the size limit parse in well under a second each", () => {
    const n = MAX_BODY_BYTES - 100;
    const bodies = [
      `#${" ".repeat(n)}a`,
      `# ${" #".repeat(n / 2 - 2)}a`,
      `###${" \t".repeat(n / 2 - 2)}x`,
      `### Drill\n- [x] ${" ".repeat(n - 20)}a`,
      "<!--".repeat(n / 4),
      `### Justification\n${"### x\n".repeat(n / 6)}`,
      `### Role\nread${" ".repeat(n - 30)}x`,
    ];
    for (const body of bodies) {
      const started = performance.now();
      const result = parseRequestBody(body, FORM);
      assert.equal(result.ok, false);
      assert.ok(performance.now() - started < 1000, `${JSON.stringify(body.slice(0, 20))} took too long`);
    }
  });
});

describe("parseRequestBody: the issue form", () => {
  test("labels come from the form, so a relabeled form works", () => {
    const relabeled = FORM.replace("label: Resource", "label: Which resource?").replace(
      "label: Justification",
      "label: Why now",
    );
    const body = GITHUB_BODY.replace("### Resource", "### Which resource?").replace(
      "### Justification",
      "### Why now",
    );
    assert.deepEqual(parsed(body, relabeled), EXPECTED);
    const list = errors(GITHUB_BODY, relabeled);
    // Without its own headings, Severity runs on into the old Justification text.
    assert.deepEqual(fieldsOf(list), ["resource", "severity", "justification"]);
    assert.match(list[0]!.message, /Add a `### Which resource\?` section/);
    assert.match(list[2]!.message, /Add a `### Why now` section/);
  });

  test("a heading of a field the repository added ends the previous section", () => {
    const extended = FORM.replace(
      "  - type: checkboxes",
      "  - type: input\n    id: team\n    attributes:\n      label: Team\n  - type: checkboxes",
    );
    const body = GITHUB_BODY.replace("### Drill", "### Team\n\ndba\n\n### Drill");
    assert.deepEqual(parsed(body, extended), EXPECTED);
  });

  test("an unreadable or incomplete form is reported as a `form` error, never thrown", () => {
    const cases: Array<[string, RegExp]> = [
      ["body: [", /cannot be read/],
      ["", /cannot be read|no field with id/],
      ["[]", /cannot be read/],
      ["body: 5", /cannot be read/],
      ["body:\n  - type: input\n", /cannot be read/],
      [
        "body:\n  - type: input\n    id: role\n    attributes: {label: Role}\n",
        /no field with id `resource`, `duration`, `severity`, `justification`, `incident`, `drill`/,
      ],
      [FORM.replace("type: checkboxes", "type: input"), /`drill` must be checkboxes with exactly one option/],
      [FORM.replace("label: Duration", "label: role"), /`role` and `duration` share the label/],
      [FORM.replace("label: Duration", 'label: ""'), /`duration` has no label/],
    ];
    for (const [form, message] of cases) {
      const list = errors(GITHUB_BODY, form);
      assert.equal(list.length, 1, form);
      assert.equal(list[0]!.field, "form", form);
      assert.match(list[0]!.message, message, form);
      assert.match(list[0]!.message, /breakglass validate/);
    }
  });

  test("the repository's form has the fields, options and labels the parser and policies rely on", () => {
    for (const id of ["resource", "role", "duration", "severity", "justification", "incident", "drill"])
      assert.match(FORM, new RegExp(`\\n    id: ${id}\\n`));
    assert.match(FORM, /^name: Break-glass access request$/m);
    assert.match(FORM, /^labels: \["breakglass"\]$/m);
    assert.match(FORM, /^title: "\[breakglass\] <resource> <role>"$/m);
    const resources = /id: resource[\s\S]*?options:\n((?: {8}- .*\n)+)/.exec(FORM)?.[1];
    assert.deepEqual(
      resources
        ?.trim()
        .split(/\n\s*- /)
        .map((s) => s.replace(/^- /, "")),
      [
        "prod-database",
        "aws-production",
        "github-admin",
        "model-guardrail-override",
        "model-rollback",
        "drill",
      ],
    );
  });
});

describe("parseRequestBody: properties", () => {
  const KNOWN = new Set([
    "body",
    "form",
    "resource",
    "role",
    "duration",
    "severity",
    "justification",
    "incident",
    "drill",
  ]);

  test("never throws, and every error names a form field", () => {
    const pieces = fc.constantFrom(
      "### ",
      "## ",
      "###",
      "Role",
      "Resource",
      "Drill",
      "Justification",
      "\n",
      "\r\n",
      " ",
      "<!--",
      "-->",
      "- [x] ",
      "This is a drill",
      "_No response_",
      "#",
      "é",
      "\u200b",
      "x",
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), fc.string(), (parts, noise) => {
        for (const body of [parts.join(""), noise, GITHUB_BODY + parts.join("")]) {
          const result = parseRequestBody(body, FORM);
          if (!result.ok) for (const e of result.error) assert.ok(KNOWN.has(e.field) && e.message.length > 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("any justification without heading lines or comments comes back exactly (trimmed)", () => {
    const line = fc
      .string({ unit: fc.constantFrom("a", "b", " ", "#", "-", "[", "]", "x", "é", "!", "<", ">", "@", "`") })
      .filter((l) => !/^\s*#/.test(l) && !l.includes("<!--"));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
        const text = lines.join("\n").trim();
        fc.pre(text !== "" && !/^(_no response_|none)$/i.test(text));
        assert.equal(parsed(withValue("Justification", text)).justification, text);
      }),
      { numRuns: 300 },
    );
  });
});
