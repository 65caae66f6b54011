import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertResponseSchema, assertWebhookSchema, requestSchemaVerdict } from "../openapi-schema.ts";
import { startReceiver, startTestEmulator, type TestEmulator } from "../helpers.ts";

const CREATE = "/repos/{owner}/{repo}/check-runs";
const UPDATE = "/repos/{owner}/{repo}/check-runs/{check_run_id}";

describe("emulator: pull requests and the Checks API, as strict as GitHub documents", () => {
  let t: TestEmulator;
  let token: string;
  let sha = "";
  let number: number;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    t = await startTestEmulator({
      installationPermissions: {
        checks: "write",
        contents: "read",
        issues: "write",
        metadata: "read",
        pull_requests: "read",
      },
    });
    receiver = await startReceiver();
    t.emulator.setWebhookUrl(receiver.url);
    token = t.emulator.installationToken();
    t.emulator.pushBranch("dave", "tighten", { "policies/model.yml": "description: Model, tightened\n" });
    ({ number, head_sha: sha } = t.emulator.openPullRequest("dave", {
      head: "tighten",
      title: "Tighten the model policy",
    }));
    await t.emulator.waitForIdle();
  });
  after(async () => {
    await t.emulator.close();
    await receiver.close();
  });

  it("pull_request.opened and .synchronize match GitHub's webhook schema; the files of the pull request are listed", async () => {
    const opened = JSON.parse(receiver.received.at(-1)!.body) as {
      action: string;
      pull_request: { head: { sha: string } };
    };
    assert.equal(opened.action, "opened");
    assertWebhookSchema("pull_request", "opened", opened);
    const files = await t.api("GET", `/repos/acme/ops/pulls/${number}/files`, token);
    assertResponseSchema("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", 200, files.json);
    assert.deepEqual(
      (files.json as Array<{ filename: string; status: string }>).map((f) => [f.filename, f.status]),
      [["policies/model.yml", "modified"]],
    );
    const pr = await t.api("GET", `/repos/acme/ops/pulls/${number}`, token);
    assertResponseSchema("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200, pr.json);
    t.emulator.pushBranch("dave", "tighten", { CODEOWNERS: "* @acme/dba\n" });
    await t.emulator.waitForIdle();
    const sync = JSON.parse(receiver.received.at(-1)!.body) as {
      action: string;
      before: string;
      after: string;
    };
    assert.equal(sync.action, "synchronize");
    assert.equal(sync.before, sha);
    assertWebhookSchema("pull_request", "synchronize", sync);
    // The old head is still readable by SHA after the branch moved.
    const old = await t.api("GET", `/repos/acme/ops/contents/policies/model.yml?ref=${sha}`, token);
    assert.equal(old.status, 200);
  });

  it("a valid check run is created, updated with appended annotations, and its answers match the OpenAPI schema", async () => {
    const body = {
      name: "breakglass/policy",
      head_sha: sha,
      status: "in_progress",
      output: {
        title: "Checking",
        summary: "…",
        annotations: [
          {
            path: "policies/model.yml",
            start_line: 1,
            end_line: 1,
            annotation_level: "failure",
            message: "bad",
          },
        ],
      },
    };
    assert.ok(requestSchemaVerdict("POST", CREATE, body).ok);
    const created = await t.api("POST", "/repos/acme/ops/check-runs", token, body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assertResponseSchema("POST", CREATE, 201, created.json);
    const id = (created.json as { id: number }).id;
    const update = {
      conclusion: "failure",
      output: {
        title: "1 problem",
        summary: "done",
        annotations: [
          {
            path: "policies/model.yml",
            start_line: 2,
            end_line: 2,
            annotation_level: "warning",
            message: "also",
          },
        ],
      },
    };
    assert.ok(requestSchemaVerdict("PATCH", UPDATE, update).ok);
    const updated = await t.api("PATCH", `/repos/acme/ops/check-runs/${id}`, token, update);
    assert.equal(updated.status, 200);
    assertResponseSchema("PATCH", UPDATE, 200, updated.json);
    const run = updated.json as { status: string; conclusion: string; output: { annotations_count: number } };
    assert.deepEqual([run.status, run.conclusion, run.output.annotations_count], ["completed", "failure", 2]);
    const list = await t.api("GET", `/repos/acme/ops/commits/${sha}/check-runs`, token);
    assertResponseSchema("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", 200, list.json);
    const annotations = await t.api("GET", `/repos/acme/ops/check-runs/${id}/annotations`, token);
    assertResponseSchema(
      "GET",
      "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
      200,
      annotations.json,
    );
  });

  const annotation = {
    path: "policies/model.yml",
    start_line: 1,
    end_line: 1,
    annotation_level: "notice",
    message: "m",
  };
  const base = () => ({ name: "x", head_sha: sha });
  const invalid: Array<[string, Record<string, unknown>]> = [
    ["no name", { head_sha: sha }],
    ["no head_sha", { name: "x" }],
    ["a status outside the enum", { ...base(), status: "done" }],
    ["a conclusion outside the enum", { ...base(), conclusion: "passed" }],
    ["an output without a summary", { ...base(), output: { title: "t" } }],
    ["an output without a title", { ...base(), output: { summary: "s" } }],
    [
      "51 annotations",
      {
        ...base(),
        output: { title: "t", summary: "s", annotations: Array.from({ length: 51 }, () => annotation) },
      },
    ],
    [
      "an annotation_level outside the enum",
      {
        ...base(),
        output: { title: "t", summary: "s", annotations: [{ ...annotation, annotation_level: "error" }] },
      },
    ],
    [
      "an annotation without a message",
      {
        ...base(),
        output: {
          title: "t",
          summary: "s",
          annotations: [{ path: "a", start_line: 1, end_line: 1, annotation_level: "notice" }],
        },
      },
    ],
    [
      "an annotation without end_line",
      {
        ...base(),
        output: {
          title: "t",
          summary: "s",
          annotations: [{ path: "a", start_line: 1, annotation_level: "notice", message: "m" }],
        },
      },
    ],
    ["a summary over 65535 characters", { ...base(), output: { title: "t", summary: "s".repeat(65_536) } }],
  ];
  for (const [what, body] of invalid) {
    it(`refuses ${what} with 422, as GitHub's OpenAPI schema does`, async () => {
      assert.equal(requestSchemaVerdict("POST", CREATE, body).ok, false, "the OpenAPI schema refuses it too");
      const res = await t.api("POST", "/repos/acme/ops/check-runs", token, body);
      assert.equal(res.status, 422, JSON.stringify(res.json));
    });
  }

  it("refuses what GitHub's rules refuse beyond the schema: completed without a conclusion, columns across lines, a commit that does not exist", async () => {
    for (const body of [
      { ...base(), status: "completed" },
      { ...base(), completed_at: "2026-11-24T09:00:00Z" },
      {
        ...base(),
        output: {
          title: "t",
          summary: "s",
          annotations: [{ ...annotation, end_line: 2, start_column: 1, end_column: 3 }],
        },
      },
      { ...base(), conclusion: "action_required" },
      { name: "x", head_sha: "0".repeat(40) },
    ]) {
      const res = await t.api("POST", "/repos/acme/ops/check-runs", token, body);
      assert.equal(res.status, 422, JSON.stringify(body));
    }
  });

  it("only a GitHub App with checks: write writes check runs, and only the app that created a run changes it", async () => {
    const asUser = await t.api("POST", "/repos/acme/ops/check-runs", t.emulator.userToken("dave"), base());
    assert.equal(asUser.status, 403);
    const readOnly = await t.api(
      "POST",
      "/repos/acme/ops/check-runs",
      t.emulator.installationToken({ permissions: { checks: "read", metadata: "read" } }),
      base(),
    );
    assert.equal(readOnly.status, 403);
    const mine = await t.api("POST", "/repos/acme/ops/check-runs", token, base());
    const other = await t.api(
      "PATCH",
      `/repos/acme/ops/check-runs/${(mine.json as { id: number }).id}`,
      t.emulator.actionsToken(),
      { conclusion: "success" },
    );
    assert.equal(other.status, 403);
  });
});
