/** A value or a list of human-actionable problems. Core functions return this instead of throwing. */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** A problem with one field of user input, phrased so the user knows what to write instead. */
export interface FieldError {
  field: string;
  message: string;
}
