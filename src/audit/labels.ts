/**
 * The app's labels (src/app/request-session.ts). Repeated here so the audit CLI does not load the
 * app's request handling; test/audit/labels.test.ts keeps the two in step.
 */
export const REQUEST_LABEL = "breakglass";
export const AUDIT_LABEL = "breakglass:audit";
