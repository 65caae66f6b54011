/**
 * Incident links through the real app: a link naming a GitHub issue is read with the app's own
 * installation (open, closed, unreadable); `incident.require_open_issue` refuses anything but an open
 * one; `incident.revoke_on_close` revokes the grants tied to an incident when it closes, found through
 * the ledger and each request's own records, never labels. Other links are recorded as given.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, it } from "node:test";
import {
  SANDBOX_OWNER as owner,
  SANDBOX_REPO as repo,
  startSandbox,
  type Sandbox,
} from "../../src/sandbox/start-sandbox.ts";
import { readHistory } from "../../src/github/issue-records.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";
import { run as audit } from "../../src/cli/commands/audit.ts";

const guardrail = `${readFileSync("policies/model-guardrail-override.yml", "utf8")
  .replace("max_requests_per_user_per_day: 2", "max_requests_per_user_per_day: 50")
  .replace(
    "max_active_grants_per_user: 1",
    "max_active_grants_per_user: 10",
  )}\nincident:\n  require_open_issue: true\n  revoke_on_close: true\n`;

/** The same override for a staging gateway, without incident settings: closing an incident leaves its grants alone. */
const staging = readFileSync("policies/model-guardrail-override.yml", "utf8")
  .replace(/^description: .*$/m, "description: Override of a staging model guardrail")
  .replace(/^[ \t]*step_up:.*\n/m, "")
  .replace("max_active_grants_per_user: 1", "max_active_grants_per_user: 10");

let sb: Sandbox;
const { openRequest, say, appTexts, stateOf, issueOf } = sandboxHelpers(() => sb);
before(async () => {
  sb = await startSandbox({
    files: {
      "policies/model-guardrail-override.yml": guardrail,
      "policies/model-guardrail-staging.yml": staging,
    },
  });
  withoutStepUp(sb); // this suite is about incidents, not step-up
});
after(() => sb.close());

async function openIncident(title: string): Promise<number> {
  const { data } = await sb.as("sam").rest.issues.create({ owner, repo, title });
  await sb.settle();
  return data.number;
}
const setState = async (who: string, n: number, state: "open" | "closed") => {
  await sb.as(who).rest.issues.update({ owner, repo, issue_number: n, state });
  await sb.settle();
};
const override = (who: string, incident?: string) =>
  openRequest(who, {
    resource: "model-guardrail-override",
    role: "override",
    duration: "1h",
    severity: "critical",
    ...(incident !== undefined ? { incident } : {}),
  });
const refusedWith = async (n: number, code: string) => {
  assert.equal((await stateOf(n)).status, "invalid");
  assert.ok(
    (await appTexts(n)).some((t) => t.includes(`Refused (\`${code}\`)`)),
    (await appTexts(n)).join("\n---\n"),
  );
};

it("require_open_issue: no link, a closed incident, an issue the app cannot read and a non-issue link are refused, each saying what to fix", async () => {
  await refusedWith(await override("dave"), "incident_required");
  const closed = await openIncident("Old incident");
  await setState("sam", closed, "closed");
  await refusedWith(await override("dave", `#${closed}`), "incident_closed");
  // Insider: a repository the requester may see but the app is not installed on (GitHub answers 404).
  await refusedWith(
    await override("dave", "https://github.com/acme/secret-incidents/issues/1"),
    "incident_unreadable",
  );
  await refusedWith(
    await override("dave", "https://status.example.com/incidents/42"),
    "incident_not_an_issue",
  );
});

it("an open incident issue is accepted, and what the app found is in the signed record", async () => {
  const incident = await openIncident("Guardrail blocks every answer");
  const n = await override("dave", `https://github.com/${owner}/${repo}/issues/${incident}`);
  assert.equal((await stateOf(n)).status, "requested");
  const port = (await sb.app.portFor(owner, repo))!;
  const history = await readHistory(port, n, sb.app.deps.identity, sb.app.deps.jwks);
  const requested = history.events.find((e) => e.type === "requested");
  assert.deepEqual(requested && "incident_issue" in requested ? requested.incident_issue : null, {
    ref: `${owner}/${repo}#${incident}`,
    state: "open",
  });
  assert.ok((await appTexts(n)).some((t) => t.includes(`Incident ${owner}/${repo}#${incident} is open.`)));
});

it("revoke_on_close: closing the incident revokes the live grants tied to it (even with the request's labels removed), not others; reopening brings nothing back", async () => {
  const incident = await openIncident("Guardrail outage");
  const other = await openIncident("Unrelated outage");
  const tied = await override("dave", `#${incident}`);
  const untied = await override("rita", `#${other}`);
  for (const n of [tied, untied]) await say("grace", n, "/approve");
  assert.equal((await stateOf(tied)).status, "active");
  assert.equal((await stateOf(untied)).status, "active");
  // Insider: labels decide nothing; a writer strips them before the incident closes.
  await sb.as("mallory").rest.issues.removeAllLabels({ owner, repo, issue_number: tied });
  await sb.settle();
  await setState("sam", incident, "closed");
  const s = await stateOf(tied);
  assert.equal(s.status, "revoked");
  assert.deepEqual([s.grant?.ended?.reason, s.grant?.ended?.by], ["incident_closed", "sam"]);
  assert.ok((await appTexts(tied)).some((t) => t.includes("because its incident was closed")));
  assert.equal((await stateOf(untied)).status, "active", "a grant tied to another incident is untouched");
  await setState("sam", incident, "open");
  assert.equal((await stateOf(tied)).status, "revoked", "reopening the incident does not restore the grant");
  assert.equal((await issueOf(tied)).state, "closed");

  // The auditor's export shows what the app found and why the grant ended — and still lists the
  // request whose labels a writer stripped (the export reads the ledger, not only the label).
  let out = "";
  let err = "";
  const code = await audit(
    ["export", "--repo", sb.repository, "--jwks", `${sb.app.url}/breakglass/jwks.json`],
    {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      readStdin: async () => "",
      cwd: process.cwd(),
      env: { GITHUB_TOKEN: sb.emulator.userToken("dave"), GITHUB_API_URL: sb.emulator.apiUrl },
    },
  );
  assert.equal(code, 0, err);
  const row = (
    JSON.parse(out) as Array<{
      issue: number;
      incident_issue_state: string | null;
      ended_reason: string | null;
      ended_by: string | null;
    }>
  ).find((r) => r.issue === tied)!;
  assert.deepEqual(
    [row.incident_issue_state, row.ended_reason, row.ended_by],
    ["open", "incident_closed", "sam"],
  );
});

it("revoke_on_close on a request naming several resources: only the resources whose policy says so are revoked; the request goes on with the others", async () => {
  const incident = await openIncident("Guardrail outage, two gateways");
  const n = await openRequest("uma", {
    resource: "model-guardrail-override",
    role: "override",
    duration: "1h",
    severity: "critical",
    incident: `#${incident}`,
    more: ["model-guardrail-staging override 30m"],
  });
  await say("grace", n, "/approve");
  let s = await stateOf(n);
  assert.equal(s.parts?.["model-guardrail-override"]?.status, "active");
  assert.equal(s.parts?.["model-guardrail-staging"]?.status, "active");
  await setState("sam", incident, "closed");
  s = await stateOf(n);
  const closedPart = s.parts!["model-guardrail-override"]!;
  assert.equal(closedPart.status, "revoked");
  assert.deepEqual(
    [closedPart.grant?.ended?.reason, closedPart.grant?.ended?.by],
    ["incident_closed", "sam"],
  );
  assert.equal(s.parts!["model-guardrail-staging"]!.status, "active", "its policy does not revoke on close");
  assert.equal(s.status, "active");
  assert.equal((await issueOf(n)).state, "open", "the request stays open while a resource is live");
  await say("grace", n, "/revoke");
  assert.equal((await stateOf(n)).status, "revoked");
  assert.equal((await issueOf(n)).state, "closed");
});

it("without those policy settings, other links and unreadable issues are recorded as given", async () => {
  const link = await openRequest("dave", {
    resource: "prod-database",
    role: "read",
    duration: "30m",
    severity: "high",
    incident: "https://status.example.com/incidents/42",
  });
  assert.equal((await stateOf(link)).status, "requested");
  assert.ok((await appTexts(link)).some((t) => t.includes("Incident link recorded as given")));
  const unreadable = await openRequest("carol", {
    resource: "prod-database",
    role: "read",
    duration: "30m",
    severity: "high",
    incident: "acme/secret-incidents#9",
  });
  assert.equal((await stateOf(unreadable)).status, "requested");
  assert.ok((await appTexts(unreadable)).some((t) => /cannot read acme\/secret-incidents#\u200b?9/.test(t)));
});
