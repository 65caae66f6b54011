import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestEmulator, type TestEmulator } from "../helpers.ts";

const FORM =
  'name: Break-glass access request\ntitle: "[breakglass] "\nlabels: ["breakglass", "urgent"]\nbody:\n  - type: input\n    id: x\n    attributes:\n      label: X\n';
const names = (labels: Array<string | { name?: string }>) =>
  labels.map((l) => (typeof l === "string" ? l : l.name));

/** What a first real installation meets: labels that do not exist yet, form labels, team roles, org default forms. */
describe("emulator: as strict as GitHub on a fresh repository", () => {
  let t: TestEmulator;
  before(async () => {
    t = await startTestEmulator({
      files: {
        ".github/ISSUE_TEMPLATE/breakglass-request.yml": FORM,
        "policies/prod-database.yml": "x: 1\n",
      },
      extraRepos: ["bare", ".github"],
      publicRepos: [".github"],
      extraRepoFiles: { ".github": { ".github/ISSUE_TEMPLATE/org-default.yaml": FORM } },
      teams: { "acme/dba": ["bob", "carol"], "acme/readers": ["carol"] },
      teamRepoPermissions: { "acme/dba": "write", "acme/readers": "read" },
    });
  });
  after(() => t.emulator.close());

  it("a form's label that does not exist in the repository is not added, and not created, whoever submits", async () => {
    const filed = t.emulator.submitIssueForm("mallory", {
      template: "breakglass-request.yml",
      body: "### X\n\ny",
    });
    assert.deepEqual(filed.labels, [], "mallory (read) and a missing label: nothing");
    assert.equal(
      t.emulator.state.repository.labels.has("breakglass"),
      false,
      "the form never creates a label",
    );
    await t.emulator
      .octokitFor("bob")
      .rest.issues.createLabel({ owner: "acme", repo: "ops", name: "breakglass", color: "b60205" });
    const again = t.emulator.submitIssueForm("mallory", {
      template: "breakglass-request",
      body: "### X\n\ny",
    });
    assert.deepEqual(
      again.labels,
      ["breakglass"],
      "an existing label is applied even for a reader; the missing one is still dropped",
    );
    await t.emulator.waitForIdle();
  });

  it("REST: labels on a new issue only with push access (silently dropped otherwise); with it, a missing label is created", async () => {
    const { data: reader } = await t.emulator
      .octokitFor("mallory")
      .rest.issues.create({ owner: "acme", repo: "ops", title: "r", labels: ["breakglass"] });
    assert.deepEqual(names(reader.labels), [], "a reader's labels are dropped");
    const { data: writer } = await t.emulator
      .octokitFor("dave")
      .rest.issues.create({ owner: "acme", repo: "ops", title: "w", labels: ["brand-new"] });
    assert.deepEqual(names(writer.labels), ["brand-new"]);
    const { data: label } = await t.emulator
      .octokitFor("dave")
      .rest.issues.getLabel({ owner: "acme", repo: "ops", name: "brand-new" });
    assert.equal(label.color, "ededed");
    assert.equal(label.description, null);
  });

  it("issues.opened already carries the labels set at creation; one labeled delivery follows per label", async () => {
    const before = t.emulator.deliveries.length;
    const { data } = await t.emulator
      .octokitFor("dave")
      .rest.issues.create({ owner: "acme", repo: "ops", title: "l", labels: ["breakglass"] });
    await t.emulator.waitForIdle();
    const mine = t.emulator.deliveries
      .slice(before)
      .filter((d) => (d.payload.issue as { number: number }).number === data.number);
    const opened = mine.find((d) => d.action === "opened")!;
    assert.deepEqual(names((opened.payload.issue as { labels: Array<{ name: string }> }).labels), [
      "breakglass",
    ]);
    assert.deepEqual(mine.map((d) => d.action).sort(), ["labeled", "opened"]);
  });

  it("an organisation's default forms come from its public .github repository, only when the repository has no ISSUE_TEMPLATE of its own", () => {
    assert.throws(
      () => t.emulator.submitIssueForm("dave", { template: "org-default", body: "### X\n\ny" }),
      /no issue template "org-default"/,
      "ops has its own templates",
    );
    const filed = t.emulator.submitIssueForm("dave", { template: "org-default", body: "### X\n\ny" }, "bare");
    assert.ok(filed.number >= 1, "bare has none: the .yaml default of acme/.github is used");
  });

  it("a team's own repository role: 404 without one, the role under the repository media type", async () => {
    const token = t.emulator.installationToken();
    const role = async (team: string) => {
      const res = await fetch(`${t.emulator.apiUrl}/orgs/acme/teams/${team}/repos/acme/ops`, {
        headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github.v3.repository+json" },
      });
      return {
        status: res.status,
        body:
          res.status === 200
            ? ((await res.json()) as { role_name: string; permissions: { push: boolean } })
            : null,
      };
    };
    const dba = await role("dba");
    assert.equal(dba.status, 200);
    assert.equal(dba.body?.permissions.push, true);
    const readers = await role("readers");
    assert.equal(
      readers.body?.permissions.push,
      false,
      "carol has write personally; the team itself only reads",
    );
    t.emulator.setTeamPermission("acme/dba", null);
    assert.equal((await role("dba")).status, 404);
    const plain = await fetch(`${t.emulator.apiUrl}/orgs/acme/teams/readers/repos/acme/ops`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(plain.status, 204, "without the media type GitHub answers 204");
  });

  it("contents over 1 MB: empty `content` with encoding none; the raw media type and the blob have it", async () => {
    const big = `* @acme/dba\n${"# padding line for a large CODEOWNERS file\n".repeat(30_000)}`;
    t.emulator.setFile("docs/big.txt", big);
    const token = t.emulator.installationToken();
    const json = (await t.api("GET", "/repos/acme/ops/contents/docs/big.txt", token)).json as {
      content: string;
      encoding: string;
      sha: string;
      size: number;
    };
    assert.equal(json.encoding, "none");
    assert.equal(json.content, "");
    assert.equal(json.size, Buffer.byteLength(big));
    const raw = await fetch(`${t.emulator.apiUrl}/repos/acme/ops/contents/docs/big.txt`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github.raw+json" },
    });
    assert.equal(await raw.text(), big);
    const blob = (await t.api("GET", `/repos/acme/ops/git/blobs/${json.sha}`, token)).json as {
      content: string;
      encoding: string;
    };
    assert.equal(Buffer.from(blob.content, "base64").toString("utf8"), big);
  });

  it("symbolic links: listed as type symlink; a link to a file answers with the file, any other describes itself", async () => {
    t.emulator.setSymlink("policies/linked.yml", "prod-database.yml");
    t.emulator.setSymlink("policies/outside.yml", "../../etc/passwd");
    const token = t.emulator.installationToken();
    const listing = (await t.api("GET", "/repos/acme/ops/contents/policies", token)).json as Array<{
      name: string;
      type: string;
    }>;
    assert.deepEqual(
      listing.filter((e) => e.name !== "model.yml").map((e) => [e.name, e.type]),
      [
        ["linked.yml", "symlink"],
        ["outside.yml", "symlink"],
        ["prod-database.yml", "file"],
      ],
    );
    const followed = (await t.api("GET", "/repos/acme/ops/contents/policies/linked.yml", token)).json as {
      type: string;
      path: string;
    };
    assert.deepEqual([followed.type, followed.path], ["file", "policies/prod-database.yml"]);
    const described = (await t.api("GET", "/repos/acme/ops/contents/policies/outside.yml", token)).json as {
      type: string;
      target: string;
    };
    assert.deepEqual([described.type, described.target], ["symlink", "../../etc/passwd"]);
  });

  it("an installation token reads a public repository it does not cover (the owner's .github defaults), and writes nothing there", async () => {
    const token = t.emulator.installationToken({ repositories: ["ops"] });
    assert.equal(
      (await t.api("GET", "/repos/acme/.github/contents/.github/ISSUE_TEMPLATE", token)).status,
      200,
    );
    assert.equal(
      (await t.api("GET", "/repos/acme/bare/contents", token)).status,
      404,
      "a private repository it does not cover stays hidden",
    );
    assert.equal((await t.api("POST", "/repos/acme/.github/issues", token, { title: "x" })).status, 404);
  });
});
