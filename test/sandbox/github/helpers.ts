import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { importPKCS8, SignJWT } from "jose";
import {
  startGitHubEmulator,
  type EmulatorOptions,
  type GitHubEmulator,
} from "../../../src/sandbox/github/emulator.ts";

export const APP_ID = 4242;

const keys = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
export const APP_PRIVATE_KEY = keys.privateKey;
export const APP_PUBLIC_KEY = keys.publicKey;

export interface TestEmulator {
  emulator: GitHubEmulator;
  secret: string;
  /** Signs an app JWT like @octokit/auth-app does (iat 30 s in the past, 10 minutes' life), at `nowMs`. */
  appJwt(
    claims?: { iat?: number; exp?: number; iss?: string | number },
    privateKeyPem?: string,
    nowMs?: number,
  ): Promise<string>;
  /** fetch against the REST API with an optional token. */
  api(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; json: unknown }>;
}

export async function startTestEmulator(overrides: Partial<EmulatorOptions> = {}): Promise<TestEmulator> {
  const secret = randomBytes(8).toString("hex");
  const emulator = await startGitHubEmulator({
    appId: APP_ID,
    appPublicKeyPem: APP_PUBLIC_KEY,
    webhookSecret: secret,
    users: [
      { login: "dave" },
      { login: "bob" },
      { login: "carol" },
      { login: "mallory" },
      { login: "olivia" },
    ],
    teams: { "acme/dba": ["bob", "carol"] },
    permissions: { mallory: "read", olivia: "none" },
    files: {
      ".github/CODEOWNERS": "policies/prod-database.yml @acme/dba\n",
      "policies/prod-database.yml": "description: Production database\n",
      "policies/model.yml": "description: Model\n",
      ".github/workflows/breakglass-grant.yml":
        'name: breakglass-grant\nrun-name: "Break-glass grant for #${{ inputs.issue }}"\non:\n  workflow_dispatch:\n    inputs:\n      issue:\n        required: true\n      mode:\n        type: choice\n        options: [grant, drill]\n        default: grant\n',
      ".github/workflows/push-only.yml": "name: ci\non: push\n",
    },
    ...overrides,
  });
  return {
    emulator,
    secret,
    async appJwt(claims = {}, privateKeyPem = APP_PRIVATE_KEY, nowMs = Date.now()) {
      const now = Math.floor(nowMs / 1000);
      const iat = claims.iat ?? now - 30;
      // @octokit/auth-app puts the app id in `iss` as a number.
      return new SignJWT({ iss: (claims.iss ?? APP_ID) as unknown as string })
        .setProtectedHeader({ alg: "RS256" })
        .setIssuedAt(iat)
        .setExpirationTime(claims.exp ?? iat + 600)
        .sign(await importPKCS8(privateKeyPem, "RS256"));
    },
    async api(method, path, token, body) {
      const res = await fetch(`${emulator.apiUrl}${path}`, {
        method,
        headers: {
          accept: "application/vnd.github+json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : null };
    },
  };
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A tiny webhook receiver; `respond` decides the status (and may delay). */
export async function startReceiver(
  respond: (hook: ReceivedWebhook) => number | Promise<number> = () => 200,
): Promise<{ url: string; received: ReceivedWebhook[]; close(): Promise<void> }> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const hook = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(hook);
      void Promise.resolve(respond(hook)).then((status) => res.writeHead(status).end("ok"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
