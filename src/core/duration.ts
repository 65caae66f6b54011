import { err, ok, type Result } from "./result.ts";

/** Largest duration anyone may type, whatever a policy says: 7 days. Policies narrow it further. */
export const MAX_ANY_DURATION_SECONDS = 7 * 24 * 3600;

const UNIT_SECONDS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
const HUMAN = /^(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,6})s)?$/;
const ISO = /^P(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/;
const HINT = 'Write it like "90m", "1h30m", "2h" or "PT2H".';

/**
 * Parses a duration such as `90m`, `1h30m`, `2h`, `1d`, `45s` or ISO 8601 `PT2H` / `P1D` into seconds.
 * Only ASCII digits count (no unicode digits, signs, decimals or exponents), and zero,
 * negative or absurd values (over {@link MAX_ANY_DURATION_SECONDS}) are refused with a message.
 */
export function parseDuration(input: string): Result<number, string> {
  const text = input.trim();
  if (text === "") return err(`The duration is empty. ${HINT}`);
  if (text.length > 40) return err(`The duration "${text.slice(0, 40)}…" is too long. ${HINT}`);
  if (/^[-−]/.test(text)) return err(`The duration "${text}" is negative. ${HINT}`);
  const human = HUMAN.exec(text.toLowerCase());
  const iso = human ? null : ISO.exec(text.toUpperCase());
  const match = human ?? iso;
  if (!match || match.slice(1).every((g) => g === undefined)) {
    if (/^\d+$/.test(text)) return err(`The duration "${text}" has no unit. ${HINT}`);
    return err(`"${text}" is not a duration. ${HINT}`);
  }
  const [d, h, m, s] = match.slice(1, 5).map((g) => (g === undefined ? 0 : Number(g)));
  const seconds =
    (d ?? 0) * UNIT_SECONDS.d! +
    (h ?? 0) * UNIT_SECONDS.h! +
    (m ?? 0) * UNIT_SECONDS.m! +
    (s ?? 0) * UNIT_SECONDS.s!;
  if (seconds <= 0) return err(`The duration "${text}" is zero. ${HINT}`);
  if (seconds > MAX_ANY_DURATION_SECONDS) {
    return err(
      `The duration "${text}" is longer than ${formatDuration(MAX_ANY_DURATION_SECONDS)}, the most anything may last.`,
    );
  }
  return ok(seconds);
}

/** Formats seconds as the shortest human form: 5400 → "1h30m", 86400 → "1d". */
export function formatDuration(totalSeconds: number): string {
  let rest = Math.max(0, Math.round(totalSeconds));
  if (rest === 0) return "0s";
  let out = "";
  for (const [unit, size] of Object.entries(UNIT_SECONDS)) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
