import type { RequestSession } from "../infra/request-session.ts";

/**
 * Which part of a request naming several resources a grant workflow run is for. Each part's runs are
 * recorded on that part (its `dispatched` records), so a recorded run names its part, and a run that
 * already collected a part's credentials still names it (and is refused as already granted). A run
 * the records do not name yet (the app's dispatch answer was lost; an approver's run by hand) is for
 * the resource its title names: the default branch's `run-name` carries the `resource` input it was
 * dispatched with (a run on any other branch is refused whatever it says), so a run started for one
 * resource never collects another's, and its concurrency group is that resource's; one started for a
 * resource the request does not name is refused (`unknown_part`). A title naming none can only be for a part that waits for its grant, and only when exactly one does: otherwise
 * nothing says which, and the run is refused rather than guessed at. A request for one resource is
 * its own part.
 */
export async function partForRun(
  session: RequestSession,
  runId: string,
  runTitle: () => Promise<string | null>,
): Promise<
  { ok: true; part: RequestSession } | { ok: false; code: "ambiguous_part" | "unknown_part"; message: string }
> {
  const parts = session.parts();
  if (session.wholeState.parts === null) return { ok: true, part: session };
  const named = parts.find(
    (p) => p.state.runs.includes(runId) || p.state.grant?.run_id.split("/")[0] === runId,
  );
  if (named) return { ok: true, part: named };
  const title = await runTitle().catch(() => null);
  const resource = title === null ? null : resourceNamedIn(title, session.number);
  const titled = resource === null ? undefined : parts.find((p) => p.part === resource);
  if (titled) return { ok: true, part: titled };
  // Started for a resource this request does not (or no longer) name: it is for nothing here.
  if (resource !== null)
    return {
      ok: false,
      code: "unknown_part",
      message: `Run ${runId} was started for \`${resource}\`, which #${session.number} does not name (it names ${parts.map((p) => `\`${p.part}\``).join(", ")}).`,
    };
  const waiting = parts.filter((p) => p.state.status === "approved" && !p.state.grant);
  if (waiting.length === 1) return { ok: true, part: waiting[0]! };
  // Nothing waits: any part's refusal (not approved) says so; several: which one is unknowable.
  if (waiting.length === 0) return { ok: true, part: parts[0]! };
  return {
    ok: false,
    code: "ambiguous_part",
    message: `Run ${runId} is not recorded for any resource of #${session.number}, and ${waiting.length} resources (${waiting.map((p) => p.part).join(", ")}) wait for their grant: nothing says which this run is for. Breakglass dispatches a run for each; wait for those.`,
  };
}

/**
 * The resource a grant run's title names after its request (`… for #12 github-admin`, the workflow's
 * `run-name` with the `resource` input), or null when it names none.
 */
export function resourceNamedIn(title: string, issue: number): string | null {
  const match = new RegExp(`#${issue}\\s+(\\S+)\\s*$`).exec(title);
  return match ? match[1]! : null;
}
