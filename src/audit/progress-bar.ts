/** A one-line progress bar for a terminal, redrawn in place with `\r`: "[#####.....]  12/40 issues". */
export function renderProgressBar(done: number, total: number, width = 30): string {
  const safeTotal = Math.max(0, total);
  const fraction = safeTotal === 0 ? 1 : Math.min(1, Math.max(0, done / safeTotal));
  const filled = Math.round(fraction * width);
  const digits = String(safeTotal).length;
  return `\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.min(done, safeTotal)).padStart(digits)}/${safeTotal} issues`;
}
