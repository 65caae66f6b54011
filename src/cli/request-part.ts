import { partsOf, type RequestState } from "../core/lifecycle.ts";
import { UserError } from "./io.ts";

/**
 * The state a command acts on: the request's, or for a request naming several resources the one
 * `--resource` names (or the only one there is to choose from). Anything else is a clear error that
 * lists the resources, never a guess.
 */
export function requestPart(state: RequestState, resource: string | undefined, ref: string): RequestState {
  const parts = partsOf(state);
  if (state.parts === null) {
    const own = state.request?.resource;
    if (resource !== undefined && own !== undefined && own !== resource)
      throw new UserError(`${ref} asks for ${own}, not ${resource}.`);
    return state;
  }
  const names = parts.map((p) => p.part!);
  if (resource === undefined) {
    if (parts.length === 1) return parts[0]!.state;
    throw new UserError(
      `${ref} names several resources (${names.join(", ")}): say which with --resource ${names[0]}.`,
    );
  }
  const named = parts.find((p) => p.part === resource);
  if (!named) throw new UserError(`${ref} names no resource ${resource}: it names ${names.join(", ")}.`);
  return named.state;
}
