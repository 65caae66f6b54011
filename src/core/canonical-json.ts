/**
 * Deterministic JSON for signing: object keys sorted (UTF-16 code unit order, as RFC 8785 says),
 * no whitespace, numbers and strings exactly as `JSON.stringify` writes them. Two parties that hold
 * equal data produce byte-identical text, so a hash or signature over it means the same thing
 * wherever it is recomputed.
 *
 * Callers pass plain data they built themselves. Anything that has no single JSON spelling is a
 * programming error and throws a TypeError rather than being silently dropped or coerced: a
 * non-finite number, `undefined` in an array or at the top, a function, symbol or bigint, a class
 * instance (Date, Map, …) or a cycle. Object properties whose value is `undefined` are omitted,
 * like `JSON.stringify`, so optional fields can be left unset.
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$", new Set());
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value))
        throw new TypeError(`canonicalJson: ${path} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case "object":
      if (value === null) return "null";
      return writeObject(value, path, ancestors);
    default:
      throw new TypeError(`canonicalJson: ${path} is ${typeof value}, which JSON cannot represent`);
  }
}

function writeObject(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new TypeError(`canonicalJson: ${path} refers back to itself`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      // Array.from visits holes of sparse arrays as undefined, which is refused like any undefined.
      return `[${Array.from(value, (item: unknown, i) => write(item, `${path}[${i}]`, ancestors)).join(",")}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(
        `canonicalJson: ${path} is a ${value.constructor?.name ?? "non-plain object"}, pass plain data`,
      );
    }
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${write(item, `${path}.${key}`, ancestors)}`);
    }
    return `{${parts.join(",")}}`;
  } finally {
    ancestors.delete(value);
  }
}
