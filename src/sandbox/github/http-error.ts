export const DOCS = "https://docs.github.com/rest";

/** An error answer in GitHub's format: `{message, documentation_url, status}` plus optional `errors`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { message: this.message, documentation_url: DOCS, status: String(this.status), ...this.extra };
  }
}
