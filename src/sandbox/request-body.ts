/** The Markdown an issue form produces, for tests, the demo and `simulate` to open requests with. */
export interface RequestFormInput {
  resource: string;
  role: string;
  duration?: string;
  severity?: string;
  justification?: string;
  incident?: string;
  drill?: boolean;
  /** A retroactive record: when the access taken outside Breakglass started and ended. */
  retroactive?: { started: string; ended: string };
  /** More resources in the same request, one `<resource> <role> [duration]` a line. */
  more?: string[];
}

export function requestFormBody(form: RequestFormInput): string {
  const section = (heading: string, value: string | undefined) => [
    `### ${heading}`,
    "",
    value && value.length ? value : "_No response_",
    "",
  ];
  return [
    ...section("Resource", form.resource),
    ...section("Role", form.role),
    ...section("Duration", form.duration),
    ...(form.more ? section("More resources", form.more.join("\n")) : []),
    ...section("Severity", form.severity ?? "high"),
    ...section(
      "Justification",
      form.justification ??
        "Production incident: the primary is failing over and we need to inspect replication state now.",
    ),
    ...section("Incident", form.incident),
    "### Drill",
    "",
    `- [${form.drill ? "x" : " "}] This is a drill`,
    "",
    ...(form.retroactive
      ? [
          "### Retroactive record",
          "",
          "- [x] This records access already taken outside Breakglass",
          "",
          ...section("Started (retroactive only)", form.retroactive.started),
          ...section("Ended (retroactive only)", form.retroactive.ended),
        ]
      : []),
  ].join("\n");
}
