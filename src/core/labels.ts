/** The labels Breakglass puts on issues (state labels come from render-status.ts's statusLabel). */
export const REQUEST_LABEL = "breakglass";
export const AUDIT_LABEL = "breakglass:audit";
export const DRILL_LABEL = "breakglass:drill";

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
  { name: REQUEST_LABEL, color: "b60205", description: "Break-glass access request (added by the request form)" },
  { name: AUDIT_LABEL, color: "5319e7", description: "Post-event review of a break-glass grant" },
  { name: DRILL_LABEL, color: "c5def5", description: "A break-glass drill, not a real incident" },
];
