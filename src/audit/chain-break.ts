/** Where an issue's audit chain stops being trustworthy, and why. */
export interface ChainBreak {
  /** The entry (seq) where the chain stops being trustworthy. */
  index: number;
  reason: string;
}
