import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Node modules that reach outside the process (files, network, processes, timers' clock is allowed). */
const IO_MODULES = [
  "fs",
  "fs/*",
  "http",
  "https",
  "http2",
  "net",
  "tls",
  "dgram",
  "dns",
  "dns/*",
  "child_process",
  "cluster",
  "worker_threads",
  "readline",
  "os",
  "process",
].flatMap((m) => [m, `node:${m}`]);

/** The CLI commands that exist to run the sandbox: the demo and `breakglass simulate`. */
const SANDBOX_FRONT_ENDS = [
  "src/cli/demo-cast.ts",
  "src/cli/commands/demo.ts",
  "src/cli/commands/demo-next-steps.ts",
  "src/cli/commands/simulate.ts",
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "test-artifacts/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        Buffer: "readonly",
        fetch: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  // Import boundaries (docs/architecture.md, "Where do I put…"): src/core is pure domain code, so it
  // imports no other layer and no I/O module; the emulator is for the sandbox's own users only.
  {
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "**/app/**",
                "**/action/**",
                "**/providers/**",
                "**/sandbox/**",
                "**/cli/**",
                "**/audit/**",
                "**/github/**",
              ],
              message: "src/core is pure: it imports no other layer of the app.",
            },
            {
              group: IO_MODULES,
              message:
                "src/core does no I/O: pass what it needs in, or put the I/O in src/app or src/github.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/sandbox/**", "src/core/**", ...SANDBOX_FRONT_ENDS],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/sandbox/**"],
              message: "Only the sandbox, its front ends (demo, simulate) and tests import src/sandbox.",
            },
          ],
        },
      ],
    },
  },
  // The GitHub layer (src/github: the port, its Octokit adapter, the ledger, the records) serves the app,
  // the auditor and the CLI alike, so none of those three imports the app (the sandbox front ends run it).
  {
    files: ["src/github/**/*.ts", "src/audit/**/*.ts", "src/cli/**/*.ts"],
    ignores: SANDBOX_FRONT_ENDS,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/sandbox/**"],
              message: "Only the sandbox, its front ends (demo, simulate) and tests import src/sandbox.",
            },
            {
              group: ["**/app/**"],
              message:
                "src/github, src/audit and src/cli do not import the app: what they share with it lives in src/github or src/core.",
            },
          ],
        },
      ],
    },
  },
  // The Action runs on the runner from its own bundle (dist/): it talks to the app over HTTP only, in the
  // shapes of core/app-wire.ts, so it imports nothing of the app, the providers or the GitHub layer.
  {
    files: ["src/action/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: [
                "**/app/**",
                "**/providers/**",
                "**/github/**",
                "**/sandbox/**",
                "**/cli/**",
                "**/audit/**",
              ],
              message:
                "src/action imports only src/core: what it shares with the app (routes, bodies, answers) is in core/app-wire.ts.",
            },
          ],
        },
      ],
    },
  },
);
