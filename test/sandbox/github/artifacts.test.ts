/**
 * Run artifacts as GitHub serves them: listed by run (and name) in the documented shape, downloaded
 * through a 302 to a short-lived URL that needs no token, 410 once retention is over, and invisible
 * to a token that cannot see the repository.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { FakeClock } from "../../../src/sandbox/clock.ts";
import { readZip } from "../../../src/core/zip.ts";
import { assertResponseSchema } from "./openapi-schema.ts";
import { startTestEmulator, type TestEmulator } from "./helpers.ts";

let t: TestEmulator;
const clock = new FakeClock(Date.parse("2026-03-01T12:00:00Z"));
before(async () => {
  t = await startTestEmulator({ clock });
});
after(() => t.emulator.close());

it("list, 302 to a signed URL without the token, the zip's file, 404 to a stranger, 410 after retention", async () => {
  const run = t.emulator.startWorkflowRun({
    workflow: "breakglass-grant.yml",
    inputs: { issue: "1" },
    actor: "dave",
  });
  const id = t.emulator.uploadArtifact(
    run.id,
    "breakglass-credentials",
    { "breakglass-1.age": Buffer.from("ciphertext") },
    1,
  );
  const dave = t.emulator.userToken("dave");
  const list = await t.api(
    "GET",
    `/repos/acme/ops/actions/runs/${run.id}/artifacts?name=breakglass-credentials`,
    dave,
  );
  assert.equal(list.status, 200);
  assertResponseSchema("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts", 200, list.json);
  const listed = list.json as {
    total_count: number;
    artifacts: Array<{ id: number; archive_download_url: string; expired: boolean }>;
  };
  assert.equal(listed.total_count, 1);
  assert.equal(listed.artifacts[0]!.id, id);
  assertResponseSchema(
    "GET",
    "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}",
    200,
    (await t.api("GET", `/repos/acme/ops/actions/artifacts/${id}`, dave)).json,
  );

  const redirect = await fetch(listed.artifacts[0]!.archive_download_url, {
    headers: { authorization: `Bearer ${dave}` },
    redirect: "manual",
  });
  assert.equal(redirect.status, 302);
  const location = redirect.headers.get("location")!;
  assert.ok(!location.includes("/api/v3/"), "the signed URL is outside the API");
  const zip = await fetch(location);
  assert.equal(zip.status, 200);
  assert.equal(
    readZip(Buffer.from(await zip.arrayBuffer()))
      .get("breakglass-1.age")
      ?.toString(),
    "ciphertext",
  );
  assert.equal((await fetch(`${location}x`)).status, 403, "a made-up URL is refused");

  assert.equal(
    (await t.api("GET", `/repos/acme/ops/actions/runs/${run.id}/artifacts`, t.emulator.userToken("olivia")))
      .status,
    404,
    "no access, no list",
  );
  assert.equal(
    (await t.api("GET", `/repos/acme/ops/actions/runs/${run.id}/artifacts`)).status,
    401,
    "private repository: a token is needed",
  );

  clock.advance(61_000);
  assert.equal((await fetch(location)).status, 403, "the signed URL lasts about a minute");
  clock.advance(24 * 3600 * 1000);
  const expired = (await t.api("GET", `/repos/acme/ops/actions/runs/${run.id}/artifacts`, dave)).json as {
    artifacts: Array<{ expired: boolean }>;
  };
  assert.equal(expired.artifacts[0]!.expired, true);
  assert.equal((await t.api("GET", `/repos/acme/ops/actions/artifacts/${id}/zip`, dave)).status, 410);
});
