/**
 * "Create or update file contents" on a repository kept as git objects (the ledger): one commit on
 * the branch's head; an existing file is replaced only when `sha` names its current blob (409
 * otherwise), without `sha` it is refused 422, and a missing branch is 404, as GitHub answers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { blobSha } from "../../../../src/sandbox/github/shapes.ts";
import { startTestEmulator, type TestEmulator } from "../helpers.ts";

describe("PUT contents on a git repository", () => {
  let t: TestEmulator;
  let app: string;
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  before(async () => {
    t = await startTestEmulator({
      extraRepos: ["ledger"],
      installationPermissions: { contents: "write", metadata: "read" },
    });
    t.emulator.initLedgerRepository("ledger", { dave: "read" });
    app = t.emulator.installationToken();
  });
  after(() => t.emulator.close());

  it("creates then replaces a file by its blob sha, each a commit on the branch's head; a stale or missing sha is refused", async () => {
    const main = (await t.api("GET", "/repos/acme/ledger/git/ref/heads/main", app)).json as {
      object: { sha: string };
    };
    assert.equal(
      (
        await t.api("POST", "/repos/acme/ledger/git/refs", app, {
          ref: "refs/heads/requests/x",
          sha: main.object.sha,
        })
      ).status,
      201,
    );
    const created = await t.api("PUT", "/repos/acme/ledger/contents/chain.jsonl", app, {
      message: "entry 0",
      content: b64("a\n"),
      branch: "requests/x",
    });
    assert.equal(created.status, 201);
    const first = created.json as {
      content: { sha: string };
      commit: { sha: string; parents: Array<{ sha: string }> };
    };
    assert.equal(first.content.sha, blobSha("a\n"), "the blob id is git's");
    assert.deepEqual(
      first.commit.parents.map((p) => p.sha),
      [main.object.sha],
      "on top of the branch's head",
    );
    const tip = (await t.api("GET", "/repos/acme/ledger/git/ref/heads/requests/x", app)).json as {
      object: { sha: string };
    };
    assert.equal(tip.object.sha, first.commit.sha, "the branch moved to the new commit");

    assert.equal(
      (
        await t.api("PUT", "/repos/acme/ledger/contents/chain.jsonl", app, {
          message: "no sha",
          content: b64("b\n"),
          branch: "requests/x",
        })
      ).status,
      422,
      "an existing file needs its sha",
    );
    const replaced = await t.api("PUT", "/repos/acme/ledger/contents/chain.jsonl", app, {
      message: "entry 1",
      content: b64("a\nb\n"),
      sha: first.content.sha,
      branch: "requests/x",
    });
    assert.equal(replaced.status, 200);
    const second = replaced.json as { commit: { sha: string; parents: Array<{ sha: string }> } };
    assert.deepEqual(
      second.commit.parents.map((p) => p.sha),
      [first.commit.sha],
    );
    const stale = await t.api("PUT", "/repos/acme/ledger/contents/chain.jsonl", app, {
      message: "lost race",
      content: b64("a\nc\n"),
      sha: first.content.sha,
      branch: "requests/x",
    });
    assert.equal(stale.status, 409, "a sha that is no longer the file's is a conflict");
    const after = (await t.api("GET", "/repos/acme/ledger/git/ref/heads/requests/x", app)).json as {
      object: { sha: string };
    };
    assert.equal(after.object.sha, second.commit.sha, "and moves nothing");
  });

  it("is refused on a branch that does not exist, and to someone who may only read", async () => {
    assert.equal(
      (
        await t.api("PUT", "/repos/acme/ledger/contents/chain.jsonl", app, {
          message: "m",
          content: b64("a\n"),
          branch: "requests/none",
        })
      ).status,
      404,
    );
    const reader = t.emulator.userToken("dave");
    const refused = await t.api("PUT", "/repos/acme/ledger/contents/README.md", reader, {
      message: "m",
      content: b64("x\n"),
      sha: blobSha("# ledger\n"),
    });
    assert.ok([403, 404].includes(refused.status), `a reader cannot write (${refused.status})`);
  });
});
