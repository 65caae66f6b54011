import type { RequestSession } from "../infra/request-session.ts";

/**
 * Which part of a request naming several resources a grant workflow run is for. Each part's runs are
 * recorded on that part (its `dispatched` records), so a recorded run names its part, and a run that
 * already collected a part's credentials still names it (and is refused as already granted). A run
 * the records do not name yet (the app's dispatch answer was lost; an approver's run by hand) can
 * only be for a part that waits for its grant, and only when exactly one does: otherwise nothing says
 * which, and the run is refused rather than guessed at. A request for one resource is its own part.
 */
export function partForRun(
  session: RequestSession,
  runId: string,
): { ok: true; part: RequestSession } | { ok: false; code: "ambiguous_part"; message: string } {
  const parts = session.parts();
  if (session.wholeState.parts === null) return { ok: true, part: session };
  const named = parts.find(
    (p) => p.state.runs.includes(runId) || p.state.grant?.run_id.split("/")[0] === runId,
  );
  if (named) return { ok: true, part: named };
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
