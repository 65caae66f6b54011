/**
 * The default organisation and repository of the sandbox. The emulator gives them these ids and the
 * OIDC issuer uses them for tokens whose claims were not given, so both sides agree without wiring.
 */
export const DEFAULT_OWNER = "acme";
export const DEFAULT_REPO = "ops";
export const DEFAULT_OWNER_ID = 100_001;
export const DEFAULT_REPO_ID = 200_001;
export const DEFAULT_BRANCH = "main";
