import { formatDuration } from "../../../core/duration.ts";
import { escapeHtml as h } from "../../../core/escape-html.ts";
import type { RequestState } from "../../../core/lifecycle.ts";
import { publicKeySha256 } from "../../../core/passkey-activation.ts";
import type { Passkey, PasskeyChangeNotice } from "./passkey-records.ts";

const page = (title: string, body: string, script: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:860px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}#result{margin-top:1em;font-weight:600}button{font-size:1em;padding:.4em 1em}</style>
</head><body>${body}
<script src="/breakglass/assets/webauthn-browser.js"></script>
<script src="/breakglass/assets/${script}"></script>
</body></html>`;

export function renderPasskeysPage(input: {
  login: string;
  owner: string;
  owners: string[];
  now: number;
  passkeys: Passkey[];
  problem: string | null;
  /** Registrations, removals and activations, oldest first, and the tag of the session viewing the page. */
  changes?: PasskeyChangeNotice[];
  session?: string;
}): string {
  const changes = (input.changes ?? [])
    .slice(-20)
    .reverse()
    .map(
      (c) =>
        `<li class="change${c.session && c.session !== input.session ? " elsewhere" : ""}">${h(c.at)}: ${c.what} <code>${h(c.credential_id.slice(0, 16))}</code>${c.confirmed_by ? ` (confirmed with ${h(c.confirmed_by)})` : ""}${c.session ? (c.session === input.session ? " — in this browser session" : " — <strong>⚠️ in another sign-in session</strong>: if that was not you, your GitHub sign-in may be stolen") : ""}</li>`,
    )
    .join("");
  const status = (k: Passkey) =>
    k.activated
      ? `active (confirmed with SSH key ${h(k.activated.proof.key_fingerprint)} at ${h(k.activated.at)})`
      : Date.parse(k.active_from) <= input.now
        ? `active (waiting period ended ${h(k.active_from)})`
        : `<strong>not active yet</strong>: counts for approvals from ${h(k.active_from)} unless removed — did you register it? If not, remove it now.`;
  const pending = (k: Passkey) => !k.activated && Date.parse(k.active_from) > input.now;
  const rows = input.passkeys
    .map(
      (k) =>
        `<tr class="passkey" data-credential="${h(k.credential_id)}"><td><code>${h(k.credential_id.slice(0, 22))}</code></td><td>${k.hardware ? "device-bound, attested" : "passkey (synced or unattested)"}<br><small>model ${h(k.aaguid)}</small></td><td>${h(k.registered_at)}</td><td class="status">${status(k)}</td><td><button class="remove" data-credential="${h(k.credential_id)}">Remove</button></td></tr>${
          pending(k)
            ? `<tr class="confirm" data-credential="${h(k.credential_id)}"><td colspan="5">Public key <code class="fingerprint">${h(publicKeySha256(k.public_key))}</code>. To activate it now, first show that this browser holds it: <button class="prove" data-credential="${h(k.credential_id)}">This is my passkey</button> (it answers a challenge; a passkey someone else registered in your name cannot). The page then shows the <code>breakglass passkey confirm</code> command to sign with one of your GitHub <em>signing</em> keys, for this public key and a one-time nonce: <code class="command" data-credential="${h(k.credential_id)}"></code><br>Paste the signature:<br><textarea class="signature" data-credential="${h(k.credential_id)}" rows="7" cols="72" placeholder="-----BEGIN SSH SIGNATURE-----"></textarea><br><button class="activate" data-credential="${h(k.credential_id)}">Activate</button></td></tr>`
            : ""
        }`,
    )
    .join("");
  return page(
    "Breakglass passkeys",
    `<h1>Passkeys of @${h(input.login)}</h1>
<p>For <strong>${h(input.owner)}</strong>${
      input.owners.length > 1
        ? ` (also: ${input.owners
            .filter((o) => o !== input.owner)
            .map((o) => `<a href="?owner=${encodeURIComponent(o)}">${h(o)}</a>`)
            .join(", ")})`
        : ""
    }. A registration or removal is recorded in the app's ledger and announced to the policies' notify targets. A new passkey counts for approvals only once it is active: at once when you confirm it with an SSH signature, otherwise when its waiting period has passed.</p>
${input.problem ? `<p id="problem">⚠️ ${h(input.problem)}</p>` : ""}
<table id="passkeys"><tr><th>Credential</th><th>Kind</th><th>Registered</th><th>Status</th><th></th></tr>${rows || '<tr><td colspan="5">None yet.</td></tr>'}</table>
<p><button id="register" data-owner="${h(input.owner)}">Register a passkey or security key</button></p>
<p id="result" role="status"></p>
<p id="change-step-up">While you have an active passkey, registering another or removing one needs that passkey, or an SSH signature by one of your GitHub signing keys over <code id="change-message"></code> (<code>ssh-keygen -Y sign -n breakglass -f ~/.ssh/your_key</code>): paste it here and press the button again:<br><textarea id="change-signature" rows="7" cols="72" placeholder="-----BEGIN SSH SIGNATURE-----"></textarea></p>
<h2>Changes to your passkeys</h2>
<ul id="changes">${changes || "<li>None yet.</li>"}</ul>`,
    "passkeys.js",
  );
}

/** One resource of a request naming several, as the approval page shows it. */
export interface ApprovePagePart {
  part: string;
  state: RequestState;
  /** Whether this login may approve it (or its pending extension) with a passkey now, and why not. */
  mayApprove: boolean;
  why: string | null;
}

export function renderApprovePage(input: {
  login: string;
  repository: string;
  issue: number;
  url: string;
  state: RequestState;
  /** A request naming several resources: each part, approved on its own. */
  parts?: ApprovePagePart[];
}): string {
  if (input.parts) return renderPartsPage({ ...input, parts: input.parts });
  const { state } = input;
  const r = state.request;
  const extension = state.status === "active" ? state.extension : null;
  const waiting = (state.status === "requested" || extension) && r && state.hash;
  const details = r
    ? `<table id="request">
<tr><th>Requester</th><td>@${h(state.requester)}</td></tr>
<tr><th>Resource</th><td>${h(r.resource)}</td></tr>
<tr><th>Role</th><td>${h(r.role)}</td></tr>
<tr><th>Duration</th><td>${h(formatDuration(r.duration_seconds))}</td></tr>
<tr><th>Severity</th><td>${h(r.severity)}</td></tr>
<tr><th>Justification</th><td>${h(r.justification)}</td></tr>
<tr><th>Incident</th><td>${h(r.incident ?? "—")}</td></tr>
<tr><th>Request hash</th><td><code id="hash">${h(state.hash)}</code></td></tr>
<tr><th>Approvals</th><td>${state.approvals.length} of ${state.required_approvals}</td></tr>
${
  extension
    ? `<tr><th>Extension waiting</th><td>${h(formatDuration(extension.seconds))} more, asked by @${h(extension.actor)}: ${h(extension.reason)}</td></tr>
<tr><th>Grant ends</th><td>${h(state.grant?.expires_at ?? "—")}</td></tr>
<tr><th>Extension hash</th><td><code id="extension-hash">${h(extension.hash)}</code></td></tr>`
    : ""
}</table>`
    : "<p>No valid request is recorded on this issue.</p>";
  return page(
    `Approve ${input.repository}#${input.issue}`,
    `<h1>Approve <a href="${h(input.url)}">${h(input.repository)}#${input.issue}</a></h1>
<p>Signed in as @${h(input.login)}. This is the request exactly as the app recorded it; your security key signs its hash.</p>
${details}
<p>Status: <strong id="status">${h(state.status.replace(/_/g, " "))}</strong></p>
${waiting ? `<p><button id="approve" data-path="/breakglass/approve/${h(input.repository)}/${input.issue}">${extension ? "Approve the extension with a security key" : "Approve with a security key"}</button></p>` : ""}
<p id="result" role="status"></p>`,
    "approve.js",
  );
}

/**
 * The approval page of a request naming several resources: what they share (requester, severity,
 * justification, incident), then each resource with its own role, duration, hash, approvals and
 * button, whose challenge binds that resource and its hash only.
 */
function renderPartsPage(input: {
  login: string;
  repository: string;
  issue: number;
  url: string;
  state: RequestState;
  parts: ApprovePagePart[];
}): string {
  const first = input.parts.find((p) => p.state.request)?.state.request;
  const path = `/breakglass/approve/${h(input.repository)}/${input.issue}`;
  const sections = input.parts
    .map(({ part, state, mayApprove, why }) => {
      const r = state.request;
      const extension = state.status === "active" ? state.extension : null;
      const waiting = (state.status === "requested" || extension) && r && state.hash;
      return `<section class="part" data-part="${h(part)}">
<h2><code>${h(part)}</code></h2>
<table>
<tr><th>Role</th><td>${h(r?.role ?? "—")}</td></tr>
<tr><th>Duration</th><td>${r ? h(formatDuration(r.duration_seconds)) : "—"}</td></tr>
<tr><th>Status</th><td class="status">${h(state.status.replace(/_/g, " "))}</td></tr>
<tr><th>Hash</th><td><code class="hash">${h(state.hash ?? "—")}</code></td></tr>
<tr><th>Approvals</th><td class="approvals">${state.approvals.length} of ${state.required_approvals}</td></tr>
${
  extension
    ? `<tr><th>Extension waiting</th><td>${h(formatDuration(extension.seconds))} more, asked by @${h(extension.actor)}: ${h(extension.reason)}</td></tr>
<tr><th>Grant ends</th><td>${h(state.grant?.expires_at ?? "—")}</td></tr>
<tr><th>Extension hash</th><td><code class="extension-hash">${h(extension.hash)}</code></td></tr>`
    : ""
}</table>
${
  waiting
    ? mayApprove
      ? `<p><button class="approve-part" data-part="${h(part)}" data-path="${path}">${extension ? `Approve the extension of ${h(part)} with a security key` : `Approve ${h(part)} with a security key`}</button></p>`
      : `<p class="why">You cannot approve this one: ${h(why ?? "")}</p>`
    : ""
}
</section>`;
    })
    .join("\n");
  return page(
    `Approve ${input.repository}#${input.issue}`,
    `<h1>Approve <a href="${h(input.url)}">${h(input.repository)}#${input.issue}</a></h1>
<p>Signed in as @${h(input.login)}. This request names ${input.parts.length} resources, exactly as the app recorded them; each is approved on its own, by its own policy's owners, and your security key signs that resource's name and hash only.</p>
<table id="request">
<tr><th>Requester</th><td>@${h(input.state.requester)}</td></tr>
<tr><th>Severity</th><td>${h(first?.severity ?? "—")}</td></tr>
<tr><th>Justification</th><td>${h(first?.justification ?? "—")}</td></tr>
<tr><th>Incident</th><td>${h(first?.incident ?? "—")}</td></tr>
</table>
<p>Status: <strong id="status">${h(input.state.status.replace(/_/g, " "))}</strong></p>
${sections}
<p id="result" role="status"></p>`,
    "approve.js",
  );
}

/** What both pages' scripts start with: a status line and a JSON POST that throws the app's refusal. */
const PAGE_SCRIPT_HELPERS = `const show = (text) => { document.getElementById("result").textContent = text; };
async function post(path, body) {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), credentials: "same-origin" });
  const data = await res.json();
  if (!res.ok) throw new Error((data.error ? data.error + ": " : "") + (data.message || res.status));
  return data;
}
`;

/** The passkeys page's script (served from the app, so the CSP allows no inline script). */
export const PASSKEYS_SCRIPT = `"use strict";
${PAGE_SCRIPT_HELPERS}const ownerName = () => document.getElementById("register").dataset.owner;
// Registering another passkey or removing one, once one is active: an assertion by an active passkey over
// the change (or, pasted, an SSH signature over the message shown). Returns the step_up to post, or null.
async function changeStepUp(change) {
  // A pasted signature answers the message shown before (its nonce is in this session's cookie).
  const pasted = document.getElementById("change-signature").value.trim();
  if (pasted) return { signature: pasted };
  const given = await post("/breakglass/passkeys/change-options", { owner: ownerName(), change });
  if (!given.required) return null;
  try {
    return { assertion: await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: given.options }) };
  } catch (error) {
    document.getElementById("change-message").textContent = JSON.stringify(given.message);
    throw new Error("passkey_step_up_required: use one of your active passkeys, or paste an SSH signature below (" + error.message + ")");
  }
}
document.getElementById("register").addEventListener("click", async () => {
  const owner = ownerName();
  try {
    const step_up = await changeStepUp("register");
    const optionsJSON = await post("/breakglass/passkeys/options", { owner });
    const response = await SimpleWebAuthnBrowser.startRegistration({ optionsJSON });
    const done = await post("/breakglass/passkeys/register", { owner, response, step_up });
    show("Registered " + (done.hardware ? "a security key" : "a passkey") + " " + done.credential_id.slice(0, 16) + "; active from " + done.active_from + " unless confirmed earlier with an SSH signature (reload to see how)" + (done.not_hardware ? ". Not a verified hardware key: " + done.not_hardware : ""));
  } catch (error) { show("Refused: " + error.message); }
});
for (const button of document.querySelectorAll("button.prove")) {
  button.addEventListener("click", async () => {
    const owner = document.getElementById("register").dataset.owner;
    const credential_id = button.dataset.credential;
    try {
      const optionsJSON = await post("/breakglass/passkeys/prove-options", { owner, credential_id });
      const response = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON });
      const done = await post("/breakglass/passkeys/prove", { owner, credential_id, response });
      document.querySelector('code.command[data-credential="' + credential_id + '"]').textContent = done.command;
      show("Proven: sign the command shown for " + credential_id.slice(0, 16) + " within 10 minutes");
    } catch (error) { show("Refused: " + error.message); }
  });
}
for (const button of document.querySelectorAll("button.activate")) {
  button.addEventListener("click", async () => {
    const credential = button.dataset.credential;
    const signature = document.querySelector('textarea.signature[data-credential="' + credential + '"]').value;
    try {
      await post("/breakglass/passkeys/activate", { owner: document.getElementById("register").dataset.owner, credential_id: credential, signature });
      show("Activated " + credential.slice(0, 16));
    } catch (error) { show("Refused: " + error.message); }
  });
}
for (const button of document.querySelectorAll("button.remove")) {
  button.addEventListener("click", async () => {
    try {
      const step_up = await changeStepUp("remove:" + button.dataset.credential);
      await post("/breakglass/passkeys/remove", { owner: ownerName(), credential_id: button.dataset.credential, step_up });
      show("Removed " + button.dataset.credential.slice(0, 16));
    } catch (error) { show("Refused: " + error.message); }
  });
}
`;

export const APPROVE_SCRIPT = `"use strict";
${PAGE_SCRIPT_HELPERS}const button = document.getElementById("approve");
if (button) button.addEventListener("click", async () => {
  try {
    const optionsJSON = await post(button.dataset.path + "/options", {});
    const response = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON });
    const done = await post(button.dataset.path, { response });
    show("Approved: the request is " + done.status);
  } catch (error) { show("Refused: " + error.message); }
});
// A request naming several resources: each button approves its own resource, bound to its name and hash.
for (const each of document.querySelectorAll("button.approve-part")) {
  each.addEventListener("click", async () => {
    const part = each.dataset.part;
    try {
      const optionsJSON = await post(each.dataset.path + "/options", { part });
      const response = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON });
      const done = await post(each.dataset.path, { response, part });
      show("Approved " + part + ": it is " + done.status);
    } catch (error) { show("Refused: " + error.message); }
  });
}
`;
