import { REQUEST_LABEL } from "../../core/labels.ts";
import { requestFormBody } from "../../sandbox/request-body.ts";
import type { Sandbox } from "../../sandbox/start-sandbox.ts";

/** A value inside single quotes for a POSIX shell. */
const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * What `demo --keep` prints once the lifecycle has played: a GitHub token per sandbox person (the
 * emulator accepts them as GitHub accepts a personal token), the URLs, and commands to copy that
 * open a request, approve it, and export the audit evidence, against this running sandbox.
 */
export function demoNextSteps(
  sb: Sandbox,
  request: {
    resource: string;
    role: string;
    requester: string;
    approver: string;
    users: readonly string[];
    approverKey?: string;
  },
): string {
  const [owner, repo] = sb.repository.split("/") as [string, string];
  const api = sb.emulator.apiUrl;
  const issues = `${api}/repos/${owner}/${repo}/issues`;
  const tokenVar = (login: string) => `TOKEN_${login.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
  const body = requestFormBody({
    resource: request.resource,
    role: request.role,
    duration: "30m",
    severity: "critical",
    justification: "Trying Breakglass from demo --keep: open, approve, audit.",
  });
  const curl = (login: string, url: string, json: Record<string, unknown>) =>
    `curl -sS -H "Authorization: Bearer $${tokenVar(login)}" -H "Accept: application/vnd.github+json" -X POST ${url} -d ${shellQuote(JSON.stringify(json))}`;
  return [
    "",
    "The sandbox is still running. What you can do next (copy the lines into another shell):",
    "",
    `  GitHub API (emulator): ${api}`,
    `  Breakglass app:        ${sb.app.url}`,
    `  Dashboard:             ${sb.app.url}/breakglass   (live: requests, grants, notifications)`,
    `  App's public keys:     ${sb.app.url}/breakglass/jwks.json`,
    "",
    "A GITHUB_TOKEN per demo user (the emulator accepts each as that person's token):",
    ...request.users.map(
      (login) =>
        `  export ${tokenVar(login)}=${sb.emulator.userToken(login)}   # ${login}${login === request.requester ? " (requests)" : login === request.approver ? ` (owns policies/${request.resource}.yml: approves)` : ""}`,
    ),
    "",
    `Open a request as ${request.requester} (note the "number" it answers):`,
    `  ${curl(request.requester, issues, { title: `[breakglass] ${request.resource} ${request.role}`, labels: [REQUEST_LABEL], body })}`,
    "",
    ...(request.approverKey
      ? [
          `Approve it as ${request.approver} (replace N with that number). The policy asks for step-up, so a plain /approve comment is refused; \`breakglass approve\` signs the request's hash with ${request.approver}'s signing key (made for the demo and added to their sandbox GitHub account) and posts the /approve. The app dispatches the grant workflow and the Action runs:`,
          `  GITHUB_TOKEN=$${tokenVar(request.approver)} GITHUB_API_URL=${api} node bin/breakglass.js approve ${sb.repository}#N --key ${request.approverKey} --jwks ${sb.app.url}/breakglass/jwks.json`,
        ]
      : [
          `Approve it as ${request.approver} (replace N with that number); the app dispatches the grant workflow and the Action runs:`,
          `  ${curl(request.approver, `${issues}/N/comments`, { body: "/approve from the demo sandbox" })}`,
        ]),
    "",
    "Read what the app answered:",
    `  curl -sS -H "Authorization: Bearer $${tokenVar(request.requester)}" ${issues}/N/comments`,
    "",
    "Export and verify the audit evidence:",
    `  GITHUB_TOKEN=$${tokenVar(request.requester)} GITHUB_API_URL=${api} node bin/breakglass.js audit export --repo ${sb.repository} --jwks ${sb.app.url}/breakglass/jwks.json --format md`,
    `  GITHUB_TOKEN=$${tokenVar(request.requester)} GITHUB_API_URL=${api} node bin/breakglass.js audit verify --repo ${sb.repository} --jwks ${sb.app.url}/breakglass/jwks.json`,
    "",
    "The sandbox's clock now runs with the wall clock: a 30m grant ends 30 minutes after it starts, or /revoke it.",
    "Press Ctrl-C to stop.",
    "",
  ].join("\n");
}
