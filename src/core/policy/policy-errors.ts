/** One problem in a policy file: where it is, how it is shown, and the bounded list a reader gets. */

export const MAX_REPORTED_ERRORS = 25;

/** One problem in one policy file. `line` is 1-based; null when the problem is the file as a whole. */
export interface PolicyError {
  file: string;
  line: number | null;
  message: string;
}

export type Segment = string | number;
export interface Located {
  line: number | null;
  message: string;
}

/** "policies/x.yml:7: message", or "policies/x.yml: message" when the problem has no line. */
export function formatPolicyError(error: PolicyError): string {
  return error.line === null
    ? `${error.file}: ${error.message}`
    : `${error.file}:${error.line}: ${error.message}`;
}

export function toPolicyErrors(file: string, problems: Located[]): PolicyError[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.line}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const shown = unique.slice(0, MAX_REPORTED_ERRORS).map((p) => ({ file, line: p.line, message: p.message }));
  if (unique.length > MAX_REPORTED_ERRORS) {
    shown.push({
      file,
      line: null,
      message: `…and ${unique.length - MAX_REPORTED_ERRORS} more problems; fix these first`,
    });
  }
  return shown;
}
