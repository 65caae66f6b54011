import { readChartJs } from "./chart-library.ts";
import type { AuditCollection } from "./collect.ts";
import { formatCsv } from "./format-csv.ts";
import { formatHtml } from "./format-html.ts";
import { formatJson } from "./format-json.ts";
import { formatJsonl } from "./format-jsonl.ts";
import { formatMarkdown } from "./format-md.ts";

export const EXPORT_FORMATS = ["json", "jsonl", "csv", "md", "html"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const BY_EXTENSION: Record<string, ExportFormat> = {
  json: "json",
  jsonl: "jsonl",
  ndjson: "jsonl",
  csv: "csv",
  md: "md",
  markdown: "md",
  html: "html",
  htm: "html",
};

export const isExportFormat = (value: string): value is ExportFormat =>
  (EXPORT_FORMATS as readonly string[]).includes(value);

/** The format an output file's extension implies ("report.html" → html), or null. */
export function formatForPath(path: string): ExportFormat | null {
  const extension = /\.([A-Za-z]+)$/.exec(path)?.[1]?.toLowerCase();
  return extension ? (BY_EXTENSION[extension] ?? null) : null;
}

export async function renderExport(format: ExportFormat, collection: AuditCollection): Promise<string> {
  switch (format) {
    case "json":
      return formatJson(collection);
    case "jsonl":
      return formatJsonl(collection);
    case "csv":
      return formatCsv(collection);
    case "md":
      return formatMarkdown(collection);
    case "html":
      return formatHtml(collection, await readChartJs());
  }
}
