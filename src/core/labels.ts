import { STATUSES, type Status } from "./lifecycle.ts";

/** The labels Breakglass puts on issues: every label string the app writes or reads is defined here. */
export const REQUEST_LABEL = "breakglass";
export const AUDIT_LABEL = "breakglass:audit";
/** The monthly metrics issue (app/grant/open-metrics-issue.ts). */
export const METRICS_LABEL = "breakglass:metrics";
export const DRILL_LABEL = "breakglass:drill";
/** The periodic access review issue (app/grant/open-access-review.ts). */
export const ACCESS_REVIEW_LABEL = "breakglass:access-review";

export interface LabelSpec {
  name: string;
  color: string;
  description: string;
}

/**
 * The labels the app creates in each repository it is installed on. The request label must exist
 * before anyone files the form: GitHub adds a form's label only if the repository already has it.
 */
export const APP_LABELS: readonly LabelSpec[] = [
  {
    name: REQUEST_LABEL,
    color: "b60205",
    description: "Break-glass access request (added by the request form)",
  },
  { name: AUDIT_LABEL, color: "5319e7", description: "Post-event review of a break-glass grant" },
  { name: DRILL_LABEL, color: "c5def5", description: "A break-glass drill, not a real incident" },
  { name: METRICS_LABEL, color: "0e8a16", description: "Monthly break-glass figures for auditors" },
  {
    name: ACCESS_REVIEW_LABEL,
    color: "fbca04",
    description: "Periodic review of who may request and approve",
  },
];

/** The display label of a status (`breakglass:revoke-failed`); "new" has none. */
export const statusLabel = (status: Status): string => `breakglass:${status.replace("_", "-")}`;
export const ALL_STATUS_LABELS: readonly string[] = STATUSES.filter((s) => s !== "new").map(statusLabel);
export const REVOKE_FAILED_LABEL = statusLabel("revoke_failed");
