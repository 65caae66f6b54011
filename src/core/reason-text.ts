import { stripInvisible } from "./strip-invisible.ts";

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** The reason as a reader will see it: invisible characters removed, whitespace collapsed. */
export function visibleReason(text: string): string {
  return stripInvisible(text).replace(/\s+/g, " ").trim();
}

/**
 * True when a reason says something: after removing invisible characters it still holds a letter or
 * a digit (in any script). "----------", ten zero-width spaces or "…!?" say nothing, so a command that
 * needs a reason refuses them instead of recording an empty explanation.
 */
export function isReadableReason(text: string): boolean {
  return LETTER_OR_DIGIT.test(visibleReason(text));
}

/** How long the reason looks: code points a reader can see. */
export function visibleLength(text: string): number {
  return Array.from(visibleReason(text)).length;
}
