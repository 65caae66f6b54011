const TASK = /^(\s*[-*+]\s+\[)([ xX])(\]\s)(.*)$/;
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

export interface TaskItem {
  /** The item's text as written after the box, trimmed. */
  text: string;
  checked: boolean;
  /** Index of its line in the body split at line breaks. */
  line: number;
}

/** The task-list items of a body, as GitHub renders them: not inside fenced code blocks. */
export function readTaskItems(body: string): TaskItem[] {
  const items: TaskItem[] = [];
  let fence: string | null = null;
  String(body)
    .split(/\r?\n/)
    .forEach((line, index) => {
      const marker = FENCE.exec(line)?.[1];
      if (marker) {
        if (fence === null) fence = marker;
        else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
        return;
      }
      if (fence !== null) return;
      const task = TASK.exec(line);
      if (task) items.push({ text: task[4]!.trim(), checked: task[2] !== " ", line: index });
    });
  return items;
}

/** True when some task item with exactly this text is checked. */
export function isTaskChecked(body: string, text: string): boolean {
  return readTaskItems(body).some((t) => t.checked && t.text === text);
}

/**
 * The body with every checked task item whose text is in `texts` unchecked, and nothing else
 * changed (line ends kept), so an edit someone else made meanwhile survives.
 */
export function uncheckTaskItems(body: string, texts: ReadonlySet<string>): string {
  const targets = new Set(
    readTaskItems(body)
      .filter((t) => t.checked && texts.has(t.text))
      .map((t) => t.line),
  );
  if (targets.size === 0) return body;
  const parts = String(body).split(/(\r?\n)/);
  // split with a capture group interleaves separators: line i is at index 2i.
  return parts
    .map((part, i) => (i % 2 === 0 && targets.has(i / 2) ? part.replace(TASK, "$1 $3$4") : part))
    .join("");
}
