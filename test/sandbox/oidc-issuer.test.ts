import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { getIDToken } from "@actions/core";
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { FakeClock } from "../../src/sandbox/clock.ts";
import {
  buildActionsClaims,
  defaultSubjectFormat,
  IMMUTABLE_SUBJECTS_SINCE,
  startOidcIssuer,
  subjectFor,
  type ActionsClaims,
  type OidcIssuer,
} from "../../src/sandbox/oidc-issuer.ts";
import { DEFAULT_OWNER_ID, DEFAULT_REPO_ID } from "../../src/sandbox/sandbox-identity.ts";

/** Runs core.getIDToken the way a runner would, with its `::add-mask::` output kept out of the test report. */
async function tokenFromRunner(
  env: { requestUrl: string; requestToken: string },
  audience?: string,
): Promise<string> {
  const saved = {
    url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL,
    token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
  };
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = env.requestUrl;
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = env.requestToken;
  const write = process.stdout.write;
  // Only workflow commands are held back: the test runner reports through stdout too.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).startsWith("::")
      ? true
      : (write as (...args: unknown[]) => boolean).call(
          process.stdout,
          chunk,
          ...rest,
        )) as typeof process.stdout.write;
  try {
    return await getIDToken(audience);
  } finally {
    process.stdout.write = write;
    for (const [key, value] of [
      ["ACTIONS_ID_TOKEN_REQUEST_URL", saved.url],
      ["ACTIONS_ID_TOKEN_REQUEST_TOKEN", saved.token],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

describe("local OIDC issuer", () => {
  let issuer: OidcIssuer;
  let clock: FakeClock;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const verify = (token: string, audience = "breakglass") =>
    jwtVerify<ActionsClaims>(token, jwks, {
      issuer: issuer.url,
      audience,
      algorithms: ["RS256"],
      currentDate: new Date(clock.now()),
    });

  before(async () => {
    clock = new FakeClock(Date.parse("2026-06-01T08:00:00Z"));
    issuer = await startOidcIssuer({ clock });
    const discovery = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string;
    };
    jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  });
  after(() => issuer.close());
  afterEach(() => assert.equal(process.env.ACTIONS_ID_TOKEN_REQUEST_URL, undefined));

  it("publishes a discovery document and an RS256 JWKS like GitHub's", async () => {
    const res = await fetch(`${issuer.url}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Record<string, unknown>;
    assert.equal(doc.issuer, issuer.url);
    assert.equal(doc.jwks_uri, `${issuer.url}/.well-known/jwks`);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ["RS256"]);
    assert.deepEqual(doc.response_types_supported, ["id_token"]);
    assert.ok(Array.isArray(doc.subject_types_supported));
    for (const claim of [
      "sub",
      "aud",
      "repository_id",
      "repository_owner_id",
      "job_workflow_ref",
      "run_attempt",
      "environment",
    ])
      assert.ok((doc.claims_supported as string[]).includes(claim), claim);
    const keys = (await (await fetch(issuer.jwksUrl)).json()) as { keys: Array<Record<string, string>> };
    assert.equal(keys.keys.length, 1);
    assert.deepEqual(
      [keys.keys[0]!.kty, keys.keys[0]!.alg, keys.keys[0]!.use, keys.keys[0]!.kid],
      ["RSA", "RS256", "sig", issuer.kid],
    );
    assert.equal(keys.keys[0]!.d, undefined, "no private parts");
    assert.equal((await fetch(`${issuer.url}/.well-known/jwks`, { method: "POST" })).status, 405);
    assert.equal((await fetch(`${issuer.url}/nothing`)).status, 404);
  });

  it("mints a token for a registered job through core.getIDToken's own protocol", async () => {
    const run = issuer.registerRun({
      repository: "acme/ops",
      repository_id: "200001",
      repository_owner_id: "100001",
      run_id: "555",
      run_attempt: "2",
      actor: "breakglass[bot]",
      environment: "breakglass-prod-database",
      workflow_ref: "acme/ops/.github/workflows/breakglass-grant.yml@refs/heads/main",
    });
    assert.match(run.requestUrl, /\?api-version=2\.0$/, "core.getIDToken appends &audience=");
    const token = await tokenFromRunner(run, "breakglass");
    const { payload, protectedHeader } = await verify(token);
    assert.deepEqual(
      [protectedHeader.alg, protectedHeader.kid, protectedHeader.typ],
      ["RS256", issuer.kid, "JWT"],
    );
    assert.equal(payload.sub, "repo:acme/ops:environment:breakglass-prod-database");
    assert.equal(payload.aud, "breakglass");
    assert.equal(payload.iss, issuer.url);
    assert.equal(
      payload.iat,
      Date.parse("2026-06-01T08:00:00Z") / 1000,
      "times come from the injected clock",
    );
    assert.equal(payload.exp - payload.iat, 300);
    assert.ok(payload.nbf <= payload.iat);
    assert.match(payload.jti, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      [
        payload.repository,
        payload.repository_id,
        payload.repository_owner,
        payload.repository_owner_id,
        payload.run_id,
        payload.run_attempt,
        payload.actor,
        payload.environment,
      ],
      ["acme/ops", "200001", "acme", "100001", "555", "2", "breakglass[bot]", "breakglass-prod-database"],
    );
    assert.equal(payload.job_workflow_ref, "acme/ops/.github/workflows/breakglass-grant.yml@refs/heads/main");
    for (const claim of [
      "workflow",
      "workflow_sha",
      "run_number",
      "actor_id",
      "event_name",
      "ref",
      "ref_type",
      "sha",
      "repository_visibility",
      "runner_environment",
    ])
      assert.equal(typeof (payload as unknown as Record<string, unknown>)[claim], "string", claim);
    assert.equal(issuer.issued.at(-1)!.jti, payload.jti);
    const second = decodeJwt(await tokenFromRunner(run, "breakglass"));
    assert.notEqual(second.jti, payload.jti, "every token has its own jti");
  });

  it("defaults the audience to the repository owner's URL, like GitHub", async () => {
    const token = await tokenFromRunner(issuer.registerRun({ repository: "acme/ops" }));
    const { payload } = await verify(token, "https://github.com/acme");
    assert.equal(payload.sub, "repo:acme/ops:ref:refs/heads/main");
    assert.equal(payload.repository_id, String(DEFAULT_REPO_ID), "ids default to the emulator's");
    assert.equal(payload.repository_owner_id, String(DEFAULT_OWNER_ID));
  });

  it("writes sub in GitHub's formats", () => {
    assert.equal(
      subjectFor({ repository: "o/r", event_name: "push", ref: "refs/heads/main" }),
      "repo:o/r:ref:refs/heads/main",
    );
    assert.equal(
      subjectFor({ repository: "o/r", event_name: "push", ref: "refs/tags/v1" }),
      "repo:o/r:ref:refs/tags/v1",
    );
    assert.equal(
      subjectFor({ repository: "o/r", event_name: "pull_request", ref: "refs/pull/1/merge" }),
      "repo:o/r:pull_request",
    );
    assert.equal(
      subjectFor({
        repository: "o/r",
        event_name: "pull_request",
        ref: "refs/pull/1/merge",
        environment: "prod",
      }),
      "repo:o/r:environment:prod",
    );
    const tag = buildActionsClaims(
      { repository: "o/r", ref: "refs/tags/v2" },
      { iss: "x", nowSeconds: 100, runId: "1" },
    );
    assert.deepEqual(
      [tag.ref_type, tag.sub, tag.repository_owner, tag.exp],
      ["tag", "repo:o/r:ref:refs/tags/v2", "o", 400],
    );
    const noSub = buildActionsClaims({ sub: undefined }, { iss: "x", nowSeconds: 100, runId: "1" });
    assert.equal("sub" in noSub, false, "a claim given as undefined is left out");
  });

  it("writes immutable subjects (OWNER@OWNER_ID/REPO@REPO_ID) and customized templates, per repository", async () => {
    const ids = {
      repository: "o/r",
      repository_owner_id: "11",
      repository_id: "22",
      event_name: "workflow_dispatch",
      ref: "refs/heads/main",
    };
    assert.equal(subjectFor(ids, { format: "immutable" }), "repo:o@11/r@22:ref:refs/heads/main");
    assert.equal(
      subjectFor({ ...ids, environment: "prod" }, { format: "immutable" }),
      "repo:o@11/r@22:environment:prod",
    );
    const pinned = {
      ...ids,
      environment: "prod",
      job_workflow_ref: "o/r/.github/workflows/g.yml@refs/heads/main",
    };
    assert.equal(
      subjectFor(pinned, { includeClaimKeys: ["repo", "context", "job_workflow_ref"] }),
      "repo:o/r:environment:prod:job_workflow_ref:o/r/.github/workflows/g.yml@refs/heads/main",
    );
    assert.equal(
      subjectFor(pinned, {
        format: "immutable",
        includeClaimKeys: ["repository_owner_id", "repository_id", "context"],
      }),
      "repository_owner_id:11:repository_id:22:environment:prod",
    );
    assert.throws(
      () =>
        subjectFor(
          { repository: "o/r", event_name: "push", ref: "refs/heads/main" },
          { format: "immutable" },
        ),
      /repository_owner_id and repository_id/,
    );

    issuer.setSubjectSettings("acme/ops", { format: "immutable" });
    try {
      const viaRunner = decodeJwt(
        await tokenFromRunner(
          issuer.registerRun({ repository: "acme/ops", environment: "prod" }),
          "breakglass",
        ),
      );
      assert.equal(viaRunner.sub, `repo:acme@${DEFAULT_OWNER_ID}/ops@${DEFAULT_REPO_ID}:environment:prod`);
      assert.equal(
        decodeJwt(await issuer.mint({ repository: "acme/ops", repository_id: "7" })).sub,
        `repo:acme@${DEFAULT_OWNER_ID}/ops@7:ref:refs/heads/main`,
      );
      assert.equal(
        decodeJwt(await issuer.mint({ repository: "other/ops" })).sub,
        "repo:other/ops:ref:refs/heads/main",
        "other repositories keep their own format",
      );
    } finally {
      issuer.setSubjectSettings("acme/ops", {});
    }
  });

  it("gives repositories created, renamed or transferred since 2026-07-15 the immutable format by default", () => {
    const before = IMMUTABLE_SUBJECTS_SINCE - 1;
    assert.equal(defaultSubjectFormat({ createdAt: before }), "legacy");
    assert.equal(defaultSubjectFormat({ createdAt: IMMUTABLE_SUBJECTS_SINCE }), "immutable");
    assert.equal(
      defaultSubjectFormat({
        createdAt: Date.parse("2020-01-01"),
        renamedOrTransferredAt: Date.parse("2026-08-01"),
      }),
      "immutable",
      "a rename moves it over",
    );
    assert.equal(
      defaultSubjectFormat({ createdAt: Date.parse("2020-01-01"), renamedOrTransferredAt: before }),
      "legacy",
    );
  });

  it("refuses a wrong request token, another job's token, and a job that ended", async () => {
    const a = issuer.registerRun({ run_id: "1" });
    const b = issuer.registerRun({ run_id: "2" });
    await assert.rejects(
      tokenFromRunner({ requestUrl: a.requestUrl, requestToken: "guess" }, "breakglass"),
      /401/,
    );
    await assert.rejects(
      tokenFromRunner({ requestUrl: a.requestUrl, requestToken: b.requestToken }, "breakglass"),
      /401/,
    );
    const raw = await fetch(`${a.requestUrl}&audience=breakglass`);
    assert.equal(raw.status, 401, "no Authorization header");
    assert.ok(await tokenFromRunner(a, "breakglass"));
    issuer.endRun(a.requestToken);
    await assert.rejects(tokenFromRunner(a, "breakglass"), /401/);
    assert.ok(await tokenFromRunner(b, "breakglass"), "other jobs are unaffected");
  });

  it("forges tokens for tests, which a verifier using the JWKS refuses", async () => {
    const good = await issuer.mint({ aud: "breakglass", repository_id: "999" });
    const { payload } = await verify(good);
    assert.equal(payload.repository_id, "999", "overrides win");
    const rejectedWith = async (token: string) =>
      verify(token).then(
        () => "accepted",
        (error: Error & { code?: string }) => error.code ?? error.message,
      );
    const otherKey = await issuer.mint({ aud: "breakglass" }, { key: "other" });
    assert.equal(decodeProtectedHeader(otherKey).kid, issuer.kid, "the forgery claims the real kid");
    assert.equal(await rejectedWith(otherKey), "ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    const none = await issuer.mint({ aud: "breakglass" }, { key: "none" });
    assert.equal(decodeProtectedHeader(none).alg, "none");
    assert.notEqual(await rejectedWith(none), "accepted");
    const confused = await issuer.mint({ aud: "breakglass" }, { key: "hs256-public-key" });
    assert.equal(decodeProtectedHeader(confused).alg, "HS256");
    assert.notEqual(await rejectedWith(confused), "accepted");
    assert.equal(
      await rejectedWith(await issuer.mint({ aud: "breakglass" }, { issuedAtOffsetSeconds: -600 })),
      "ERR_JWT_EXPIRED",
    );
    assert.equal(
      await rejectedWith(await issuer.mint({ aud: "breakglass" }, { notBeforeOffsetSeconds: 120 })),
      "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
    assert.equal(
      await rejectedWith(await issuer.mint({ aud: "someone-else" })),
      "ERR_JWT_CLAIM_VALIDATION_FAILED",
    );
    const unknownKid = await issuer.mint({ aud: "breakglass" }, { key: "other", kid: "rotated-away" });
    assert.equal(await rejectedWith(unknownKid), "ERR_JWKS_NO_MATCHING_KEY");
    const long = decodeJwt(await issuer.mint({}, { expiresInSeconds: 3600 }));
    assert.equal(long.exp! - long.iat!, 3600);
  });

  it("follows the fake clock", async () => {
    clock.advance(10 * 60 * 1000);
    const token = await tokenFromRunner(issuer.registerRun({}), "breakglass");
    assert.equal(decodeJwt(token).iat, Date.parse("2026-06-01T08:10:00Z") / 1000);
    clock.advance(6 * 60 * 1000);
    await assert.rejects(verify(token), { code: "ERR_JWT_EXPIRED" });
  });
});
