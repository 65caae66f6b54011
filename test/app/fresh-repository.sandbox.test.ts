/**
 * A first real installation: the repository has none of the app's labels yet, requests come in
 * through the issue form (whose label GitHub drops when it does not exist), insiders move labels,
 * and an owning team lacks write access of its own. Through the real app in the sandbox.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { APP_LABELS } from "../../src/core/labels.ts";
import { requestFormBody } from "../../src/sandbox/request-body.ts";
import { startSandbox, SANDBOX_TEAMS, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import { sandboxHelpers, withoutStepUp } from "../support/sandbox-helpers.ts";

const owner = "acme";
const repo = "ops";
let sb: Sandbox;
const { say, appTexts, labelsOf, stateOf, reactions } = sandboxHelpers(() => sb);
const statusComments = async (n: number) =>
  (await appTexts(n)).filter((t) => t.startsWith("<!-- breakglass:status"));

async function fileForm(
  who: string,
  resource: string,
  role: string,
  extra: { severity?: string; duration?: string } = {},
): Promise<number> {
  const { number } = sb.emulator.submitIssueForm(who, {
    template: "breakglass-request",
    title: `[breakglass] ${resource} ${role}`,
    body: requestFormBody({
      resource,
      role,
      duration: extra.duration ?? "20m",
      severity: extra.severity ?? "high",
    }),
  });
  await sb.settle();
  return number;
}

describe("labels on a fresh repository", () => {
  before(async () => {
    sb = await startSandbox({
      runWorkflows: false,
      teamRepoPermissions: {
        ...Object.fromEntries(Object.keys(SANDBOX_TEAMS).map((t) => [t, "write" as const])),
        "acme/ai-governance": "read",
      },
    });
    withoutStepUp(sb); // this suite is about fresh repository, not step-up
  });
  after(() => sb.close());

  it("a request filed through the form before the label exists is recognised by its form: the app creates the label, puts it on, records the request", async () => {
    assert.equal(
      sb.emulator.state.repository.labels.has("breakglass"),
      false,
      "a fresh repository: no label yet",
    );
    const n = await fileForm("dave", "prod-database", "read");
    assert.equal((await stateOf(n)).status, "requested");
    assert.ok((await labelsOf(n)).includes("breakglass"), "the label is back on the issue");
    const label = sb.emulator.state.repository.labels.get("breakglass")!;
    assert.equal(
      label.color,
      APP_LABELS[0]!.color,
      "created by the app with its colour, not GitHub's grey auto-label",
    );
    assert.equal((await statusComments(n)).length, 1);
  });

  it("installation.created: the app creates every one of its labels in the installed repositories", async () => {
    sb.emulator.state.repository.labels.clear();
    sb.emulator.emitInstallationCreated();
    await sb.settle();
    for (const spec of APP_LABELS)
      assert.equal(
        sb.emulator.state.repository.labels.get(spec.name)?.description,
        spec.description,
        spec.name,
      );
    // Now the form's label exists, so GitHub applies it and nothing needs repairing.
    const n = await fileForm("dave", "prod-database", "read");
    assert.equal((await stateOf(n)).status, "requested");
  });

  it("installation_repositories.added: a repository added to the installation later gets the app's labels", async () => {
    sb.emulator.state.repository.labels.clear();
    const id = sb.emulator.state.repository.id;
    sb.emulator.state.installation.repoIds = sb.emulator.state.installation.repoIds.filter((r) => r !== id);
    sb.emulator.addRepositoriesToInstallation([repo]);
    await sb.settle();
    for (const spec of APP_LABELS)
      assert.equal(
        sb.emulator.state.repository.labels.get(spec.name)?.description,
        spec.description,
        spec.name,
      );
  });

  it("A150: taking the request label off a request and closing it still ends the request (the label comes back)", async () => {
    const n = await fileForm("dave", "prod-database", "read");
    await sb.as("mallory").rest.issues.removeLabel({ owner, repo, issue_number: n, name: "breakglass" });
    await sb.settle();
    assert.ok(
      (await labelsOf(n)).includes("breakglass"),
      "the app puts the label back on a request known by its records",
    );
    // The repair is not what saves it: with that delivery lost, the label stays off, and closing still counts.
    sb.emulator.setWebhookUrl(null);
    await sb.as("mallory").rest.issues.removeLabel({ owner, repo, issue_number: n, name: "breakglass" });
    await sb.emulator.waitForIdle();
    sb.emulator.setWebhookUrl(`${sb.app.url}/api/github/webhooks`);
    assert.equal((await labelsOf(n)).includes("breakglass"), false);
    await sb.as("mallory").rest.issues.update({ owner, repo, issue_number: n, state: "closed" });
    await sb.settle();
    assert.equal(
      (await stateOf(n)).status,
      "cancelled",
      "closed without its label, the request is still cancelled",
    );
  });

  it("A151: an audit label put on a request by someone else does not hide it from the app", async () => {
    const n = await fileForm("dave", "prod-database", "read");
    await sb
      .as("mallory")
      .rest.issues.addLabels({ owner, repo, issue_number: n, labels: ["breakglass:audit"] });
    await sb.settle();
    const id = await say("bob", n, "/approve");
    assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
    assert.equal((await stateOf(n)).approvals.length, 1);
  });

  it("A152: an owning team without write access of its own approves nothing, though its members have write personally", async () => {
    const n = await fileForm("dave", "model-rollback", "rollback");
    const id = await say("grace", n, "/approve");
    assert.deepEqual(await reactions(id), ["-1", "eyes"]);
    assert.ok((await appTexts(n)).some((t) => t.includes("`not_codeowner`")));
    sb.emulator.setTeamPermission("acme/ai-governance", "write");
    const again = await say("grace", n, "/approve");
    assert.deepEqual(
      await reactions(again),
      ["eyes", "rocket"],
      "given write access, the team owns the policy at once",
    );
  });
});

describe("repository files as GitHub serves them", () => {
  const FORM = ".github/ISSUE_TEMPLATE/breakglass-request.yml";
  const form = readFileSync(FORM, "utf8");
  before(async () => {
    sb = await startSandbox({
      runWorkflows: false,
      extraRepos: [".github"],
      publicRepos: [".github"],
      extraRepoFiles: { ".github": { ".github/ISSUE_TEMPLATE/breakglass-request.yaml": form } },
    });
  });
  after(() => sb.close());

  it("a CODEOWNERS over 1 MB (empty `content` from the contents API) is read from its blob: its owners still approve", async () => {
    const codeowners = readFileSync(".github/CODEOWNERS", "utf8");
    sb.emulator.setFile(
      ".github/CODEOWNERS",
      `${"# a long header, as generated CODEOWNERS files have\n".repeat(25_000)}${codeowners}`,
    );
    const n = await fileForm("dave", "model-rollback", "rollback");
    const id = await say("grace", n, "/approve");
    assert.deepEqual(await reactions(id), ["eyes", "rocket"]);
  });

  it("the request form may be .yaml", async () => {
    sb.emulator.setFile(FORM, null);
    sb.emulator.setFile(FORM.replace(/\.yml$/, ".yaml"), form);
    const { number } = sb.emulator.submitIssueForm("dave", {
      template: "breakglass-request.yaml",
      title: "[breakglass] prod-database read",
      body: requestFormBody({ resource: "prod-database", role: "read", duration: "20m" }),
    });
    await sb.settle();
    assert.equal((await stateOf(number)).status, "requested");
  });

  it("with no ISSUE_TEMPLATE of its own, the repository uses the organisation's default form from acme/.github", async () => {
    for (const path of Object.keys(sb.emulator.state.files))
      if (path.startsWith(".github/ISSUE_TEMPLATE/")) sb.emulator.setFile(path, null);
    const { number } = sb.emulator.submitIssueForm("dave", {
      template: "breakglass-request",
      title: "[breakglass] prod-database read",
      body: requestFormBody({ resource: "prod-database", role: "read", duration: "20m" }),
    });
    await sb.settle();
    assert.equal((await stateOf(number)).status, "requested");
  });

  it("A153: a symlinked policy is reported, not followed: CODEOWNERS reviews the link, not its target", async () => {
    sb.emulator.setFile("docs/unreviewed.yml", sb.emulator.state.files["policies/drill.yml"]!);
    sb.emulator.setFile("policies/drill.yml", null);
    sb.emulator.setSymlink("policies/drill.yml", "../docs/unreviewed.yml");
    const n = await fileForm("dave", "drill", "drill");
    assert.equal((await stateOf(n)).status, "invalid");
    assert.ok(
      (await appTexts(n)).some((t) => t.includes("symbolic link")),
      "the requester is told why",
    );
  });
});
