/** A GitHub issue named by a request's incident link. */
export interface IncidentIssueRef {
  owner: string;
  repo: string;
  number: number;
}

const REF = /^(?:([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100}))?#([1-9][0-9]{0,9})$/;
const URL_PATH =
  /^\/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})\/issues\/([1-9][0-9]{0,9})\/?$/;

/**
 * The issue an incident link names, or null when it names none (any other link is recorded as given):
 * `#123` (this repository), `owner/repo#123`, or `https://<web host>/owner/repo/issues/123` with no
 * query or fragment beyond an anchor. `webHosts` are the hosts of GitHub's web UI (`github.com`, a GHES host).
 */
export function incidentIssueRef(
  link: string | null,
  here: { owner: string; repo: string },
  webHosts: readonly string[] = ["github.com"],
): IncidentIssueRef | null {
  if (!link) return null;
  const ref = REF.exec(link);
  if (ref) return { owner: ref[1] ?? here.owner, repo: ref[2] ?? here.repo, number: Number(ref[3]) };
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return null;
  }
  if (
    url.protocol !== "https:" ||
    url.search ||
    !webHosts.some((h) => h.toLowerCase() === url.hostname.toLowerCase())
  )
    return null;
  const m = URL_PATH.exec(url.pathname);
  return m ? { owner: m[1]!, repo: m[2]!, number: Number(m[3]) } : null;
}

export const sameIssue = (a: IncidentIssueRef, b: IncidentIssueRef): boolean =>
  a.owner.toLowerCase() === b.owner.toLowerCase() &&
  a.repo.toLowerCase() === b.repo.toLowerCase() &&
  a.number === b.number;

export const formatIssueRef = (r: IncidentIssueRef): string => `${r.owner}/${r.repo}#${r.number}`;
