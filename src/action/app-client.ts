import { randomBytes } from "node:crypto";

/** Calls the Breakglass app's routes; errors carry the app's reason code and message. */
export class AppRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function postToApp<T>(appUrl: string, path: string, body: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
  const url = new URL(path, appUrl.endsWith("/") ? appUrl : `${appUrl}/`);
  // Names this run in the app's logs, so a refusal printed here can be found there.
  const requestId = `run-${process.env.GITHUB_RUN_ID ?? "local"}-${process.env.GITHUB_RUN_ATTEMPT ?? "1"}-${randomBytes(3).toString("hex")}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "breakglass-action", "x-request-id": requestId },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(`Could not reach the Breakglass app at ${url.origin}: ${(error as Error).message}`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (!res.ok) {
    const err = (json ?? {}) as { error?: string; message?: string };
    const id = res.headers.get("x-request-id") ?? requestId;
    throw new AppRefusal(res.status, err.error ?? `http_${res.status}`, `${err.message ?? `The app answered ${res.status}.`} (request id ${id})`);
  }
  if (json === null) throw new Error(`The Breakglass app answered ${res.status} without JSON.`);
  return json as T;
}
