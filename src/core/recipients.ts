import yaml from "js-yaml";

/** Where a repository lists the age recipients of people who may receive credentials interactively. */
export const RECIPIENTS_PATH = ".github/breakglass-recipients.yml";

/** age's native X25519 and hybrid post-quantum recipients: Bech32 after the `age1` / `age1pq1` prefix. */
const AGE_RECIPIENT = /^age1(?:pq1)?[02-9ac-hj-np-z]{50,4000}$/;
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

export interface Recipients {
  /** Lowercased login → age recipient. */
  byLogin: Map<string, string>;
  /** Lines that could not be used, said plainly; the others still count. */
  errors: string[];
}

/**
 * Reads `.github/breakglass-recipients.yml`: a mapping of GitHub login to age recipient
 * (`dave: age1…`). It lives on the default branch, so adding or changing a key is a reviewed change
 * (give the file a CODEOWNER). Never throws; bad entries are skipped and reported.
 */
export function parseRecipients(text: string | null): Recipients {
  const byLogin = new Map<string, string>();
  const errors: string[] = [];
  if (text === null || text.trim() === "") return { byLogin, errors };
  if (text.length > 64 * 1024)
    return {
      byLogin,
      errors: [`${RECIPIENTS_PATH} is over 64 KiB; it should list one short key per person`],
    };
  let data: unknown;
  try {
    data = yaml.load(text, { schema: yaml.FAILSAFE_SCHEMA, json: false });
  } catch (error) {
    return {
      byLogin,
      errors: [`${RECIPIENTS_PATH} is not valid YAML: ${(error as Error).message.split("\n")[0]}`],
    };
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return {
      byLogin,
      errors: [`${RECIPIENTS_PATH} must be a mapping of GitHub login to age recipient, e.g. \`dave: age1…\``],
    };
  }
  for (const [login, value] of Object.entries(data as Record<string, unknown>)) {
    if (!LOGIN.test(login)) {
      errors.push(`\`${login.slice(0, 60)}\` is not a GitHub login`);
      continue;
    }
    const recipient = typeof value === "string" ? value.trim() : "";
    if (!AGE_RECIPIENT.test(recipient)) {
      errors.push(
        `the entry for ${login} is not an age recipient (it must start with \`age1\`; \`age-keygen -y key.txt\` prints yours)`,
      );
      continue;
    }
    if (byLogin.has(login.toLowerCase())) {
      errors.push(`${login} is listed twice; keep one key per person`);
      byLogin.delete(login.toLowerCase());
      continue;
    }
    byLogin.set(login.toLowerCase(), recipient);
  }
  return { byLogin, errors };
}
