/**
 * Policy files (`policies/<resource>.yml`): read safely, checked against the schema and the rules it
 * cannot express, and built into the Policy the app uses. Each job has its own file in core/policy/.
 */
export { formatPolicyError, type PolicyError } from "./policy/policy-errors.ts";
export { loadPolicies, MAX_POLICY_BYTES, parsePolicy, resourceNameFromPath } from "./policy/parse-policy.ts";
