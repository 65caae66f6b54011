/** The labels Breakglass puts on issues (state labels come from render-status.ts's statusLabel). */
export const REQUEST_LABEL = "breakglass";
export const AUDIT_LABEL = "breakglass:audit";
export const DRILL_LABEL = "breakglass:drill";
