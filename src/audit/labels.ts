/** The app's labels, from their one definition in src/core (which loads none of the app). */
export { AUDIT_LABEL, REQUEST_LABEL } from "../core/labels.ts";
