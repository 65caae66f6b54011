import type { EncryptedDelivery } from "../../core/app-wire.ts";
import { armor, Encrypter } from "age-encryption";
import { parseRecipients, RECIPIENTS_PATH } from "../../core/recipients.ts";
import type { GitHubPort } from "../../github/github-port.ts";

/** What the app hands the run instead of plaintext secrets when a role's delivery is `age`. */

/**
 * The requester's age recipient from `.github/breakglass-recipients.yml` on the default branch, or
 * a message saying what to do. Read fresh each time: a key removed by a merged change is gone at once.
 */
export async function recipientOf(
  port: GitHubPort,
  login: string,
): Promise<{ ok: true; recipient: string } | { ok: false; message: string }> {
  const { byLogin, errors } = parseRecipients(await port.readFile(RECIPIENTS_PATH));
  const recipient = byLogin.get(login.toLowerCase());
  if (recipient) {
    // Checked before anything is minted, so a key that looks right but is not cannot strand a grant.
    const usable = await encryptForRequester(recipient, {}).then(
      () => true,
      () => false,
    );
    if (usable) return { ok: true, recipient };
    return {
      ok: false,
      message: `The age recipient listed for @${login} in ${RECIPIENTS_PATH} is not a valid key (checksum or length). Replace it with the output of \`age-keygen -y key.txt\` in a reviewed pull request, then re-run the grant workflow.`,
    };
  }
  const problem = errors.find((e) => e.toLowerCase().includes(login.toLowerCase()));
  return {
    ok: false,
    message: `This role delivers credentials encrypted to the requester, and ${RECIPIENTS_PATH} has no usable age recipient for @${login}${problem ? ` (${problem})` : ""}. Add a line \`${login}: age1…\` (from \`age-keygen -y key.txt\`) in a reviewed pull request, then re-run the grant workflow.`,
  };
}

/** Encrypts the credential bundle to one age recipient; only that person's identity can open it. */
export async function encryptForRequester(
  recipient: string,
  bundle: Record<string, unknown>,
): Promise<EncryptedDelivery> {
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  const armored = armor.encode(await encrypter.encrypt(`${JSON.stringify(bundle, null, 2)}\n`));
  return { format: "age", recipient, armored };
}
