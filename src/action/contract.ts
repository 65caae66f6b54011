/**
 * The Action's inputs and outputs in one typed registry. action.yml must say exactly this (a test
 * compares them), so the code and the published contract cannot drift apart.
 */
export const MODES = ["grant", "revoke", "sweep", "drill"] as const;
export type Mode = (typeof MODES)[number];

export interface InputSpec {
  description: string;
  required: boolean;
  default?: string;
}

export const INPUTS = {
  mode: {
    description:
      "What to do: grant (exchange the run's OIDC token for the approved credentials), revoke (end this run's grant now), sweep (scheduled backstop: revoke and close everything overdue), drill (rehearse the whole lifecycle).",
    required: false,
    default: "grant",
  },
  "app-url": {
    description: "Base URL of the Breakglass app, e.g. https://breakglass.example.com.",
    required: true,
  },
  issue: {
    description:
      "The request issue number (grant and revoke modes). The grant workflow receives it as the workflow_dispatch input `issue`.",
    required: false,
    default: "",
  },
  audience: {
    description: "Audience of the OIDC token; must match the app's BREAKGLASS_OIDC_AUDIENCE.",
    required: false,
    default: "breakglass",
  },
  "export-env": {
    description:
      "Export the credentials as environment variables for the following steps of the job (masked).",
    required: false,
    default: "true",
  },
  "github-token": {
    description: "Token for drill mode to open and follow the drill request issue.",
    required: false,
    default: "${{ github.token }}",
  },
  "drill-resource": { description: "Drill mode: the policy to rehearse.", required: false, default: "drill" },
  "drill-timeout": {
    description: "Drill mode: how long to wait for each step before failing, e.g. 10m.",
    required: false,
    default: "10m",
  },
  "drill-app-workflow": {
    description:
      "Drill mode, serverless app: the app's workflow file (e.g. breakglass-app.yml), dispatched for the drill issue because events made with the GITHUB_TOKEN start no workflow. Needs actions: write.",
    required: false,
    default: "",
  },
} as const satisfies Record<string, InputSpec>;

export const OUTPUTS = {
  "grant-id": "Identifier of the grant (not a secret).",
  "credential-id": "Non-secret identifier of the credential (role name, session name, token id).",
  provider: "The provider that minted the credential: jwt, github, aws or postgres.",
  "expires-at": "When the grant ends (ISO 8601). The app revokes the credential then.",
  "issue-url": "The request issue.",
  "provider-outputs":
    "The provider's non-secret values as JSON (e.g. PGHOST, AWS_REGION, the STS session name); upper-case ones are also exported to the job's environment.",
  "encrypted-file":
    "When the role's delivery is age: path of the age-encrypted credential file to upload as a short-lived artifact (the run never sees the plaintext).",
  "drill-report": "Drill mode: the timings as JSON.",
} as const satisfies Record<string, string>;

export type InputName = keyof typeof INPUTS;
export type OutputName = keyof typeof OUTPUTS;
