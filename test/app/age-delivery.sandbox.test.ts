/**
 * `delivery: age`: credentials for a person who works interactively are encrypted by the app to the
 * requester's age recipient (from `.github/breakglass-recipients.yml` on the default branch) and the
 * run only ever holds ciphertext, which the real Action writes for upload as a one-day artifact.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { after, before, it } from "node:test";
import { armor, Decrypter, generateIdentity, identityToRecipient } from "age-encryption";
import { startSandbox, type Sandbox } from "../../src/sandbox/start-sandbox.ts";
import type { ActionRun } from "../../src/sandbox/action-runner.ts";
import { sandboxHelpers } from "../support/sandbox-helpers.ts";

const RESOURCE = "model-console";
const policy = readFileSync("policies/model-guardrail-override.yml", "utf8").replace(
  "    provider: jwt\n",
  "    provider: jwt\n    delivery: age\n",
);
assert.match(policy, /delivery: age/);
assert.match(policy, /keep_alive_after_job: true/, "age delivery needs the grant to outlive its job");

let sb: Sandbox;
let identity = "";
let recipient = "";
const ciphertexts = new Map<number, string>();
const { approve, openRequest, say, appTexts, stateOf } = sandboxHelpers(() => sb);

before(async () => {
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
  sb = await startSandbox({
    files: {
      [`policies/${RESOURCE}.yml`]: policy,
      ".github/breakglass-recipients.yml": `# age recipients for interactive break-glass credentials\nerin: ${recipient}\nheidi: ${recipient.slice(0, -1)}${recipient.endsWith("q") ? "p" : "q"}\n`,
    },
    // The runner's temp directory is gone when the job ends: read the file while the job "runs".
    holdJob: async (env, issue) => {
      if (env.BREAKGLASS_ENCRYPTED_FILE)
        ciphertexts.set(issue, await readFile(env.BREAKGLASS_ENCRYPTED_FILE, "utf8"));
    },
  });
});
after(() => sb.close());

const request = (who: string) =>
  openRequest(who, { resource: RESOURCE, role: "override", duration: "30m", severity: "critical" });
async function runOf(n: number): Promise<ActionRun> {
  const run = sb.runs.find((r) => r.issue === n);
  assert.ok(run, "the grant workflow ran");
  return run.result;
}

it("the run gets only ciphertext; the requester's age identity opens it to a live credential", async () => {
  const n = await request("erin");
  await approve("grace", n);
  const action = await runOf(n);
  assert.equal(action.exitCode, 0, action.stderr);
  assert.equal(action.env.BREAKGLASS_TOKEN, undefined, "no plaintext credential was exported to the job");
  assert.match(action.outputs["encrypted-file"] ?? "", new RegExp(`breakglass-${n}\\.age$`));
  const armored = ciphertexts.get(n) ?? "";
  assert.ok(armored.startsWith("-----BEGIN AGE ENCRYPTED FILE-----"), "the Action wrote an armored age file");

  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  const bundle = JSON.parse(await decrypter.decrypt(armor.decode(armored), "text")) as {
    secrets: Record<string, string>;
    issue: number;
    expires_at: string;
  };
  assert.equal(bundle.issue, n);
  const token = bundle.secrets.BREAKGLASS_TOKEN ?? "";
  assert.ok(token.length > 20);
  assert.equal((await sb.app.deps.introspect!(token)).active, true, "the decrypted credential works");
  const s = await stateOf(n);
  assert.equal(s.status, "active");
  assert.equal(s.grant?.ended, undefined, "the grant outlives the job (keep_alive_after_job)");

  const everywhere = [
    action.stdout,
    action.stderr,
    action.summary,
    JSON.stringify(action.outputs),
    JSON.stringify(action.env),
    ...(await appTexts(n)),
  ].join("\n");
  assert.ok(!everywhere.includes(token), "the plaintext token is in no log, output, summary or comment");
  assert.match(action.summary, /encrypted to the requester's age key/);
  assert.match(action.stdout, /age --decrypt --identity/);

  const other = new Decrypter();
  other.addIdentity(await generateIdentity());
  await assert.rejects(other.decrypt(armor.decode(armored), "text"), "another key cannot open it");
  await say("erin", n, "/revoke done");
});

it("a requester with no age recipient gets told how to add one, and nothing is minted", async () => {
  const n = await request("ivan");
  await approve("grace", n);
  const action = await runOf(n);
  assert.notEqual(action.exitCode, 0, "the grant step fails");
  assert.match(action.stdout + action.stderr, /no_recipient|no usable age recipient/);
  const s = await stateOf(n);
  assert.equal(s.status, "approved", "approved, not granted");
  assert.equal(s.grant, null);
  assert.ok(
    (await appTexts(n)).some(
      (t) =>
        t.includes("breakglass-recipients.yml") &&
        t.includes("ivan: age1") &&
        t.includes("Nothing was minted"),
    ),
  );
});

it("a recipient that has the shape of an age key but is not one is refused before minting", async () => {
  const n = await request("heidi");
  await approve("grace", n);
  const action = await runOf(n);
  assert.notEqual(action.exitCode, 0);
  assert.equal((await stateOf(n)).grant, null);
  const texts = await appTexts(n);
  assert.ok(
    texts.some((t) => t.includes("is not a valid key")),
    `a broken checksum is caught by trying the key:\n${texts.join("\n---\n")}`,
  );
});
