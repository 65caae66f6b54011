/**
 * Just enough of IAM's policy evaluation to judge a role trust policy against a web-identity request,
 * following "IAM JSON policy elements: Condition operators":
 * - every operator of a Condition block must hold, and every key under an operator (AND);
 * - a key given a list of values holds when any of them matches (OR);
 * - a key missing from the request context makes the condition false (true for the Not… operators);
 * - StringEquals / StringNotEquals are exact and case-sensitive, the IgnoreCase ones fold case;
 * - StringLike / StringNotLike are case-sensitive, `*` matches any run of characters (also none),
 *   `?` exactly one, everywhere in the value.
 * An explicit Deny wins over every Allow. Anything outside that subset (policy variables, other
 * operators, set operators, NotPrincipal/NotAction) throws rather than guessing.
 */

export type RequestContext = Record<string, string | undefined>;

type ConditionBlock = Record<string, Record<string, string | string[]>>;

function likePattern(pattern: string): RegExp {
  let source = "";
  for (const ch of pattern)
    source += ch === "*" ? "[\\s\\S]*" : ch === "?" ? "[\\s\\S]" : ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(`^${source}$`, "u");
}

const MATCHERS: Record<string, { matches: (actual: string, wanted: string) => boolean; negated: boolean }> = {
  StringEquals: { matches: (a, w) => a === w, negated: false },
  StringNotEquals: { matches: (a, w) => a === w, negated: true },
  StringEqualsIgnoreCase: { matches: (a, w) => a.toLowerCase() === w.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { matches: (a, w) => a.toLowerCase() === w.toLowerCase(), negated: true },
  StringLike: { matches: (a, w) => likePattern(w).test(a), negated: false },
  StringNotLike: { matches: (a, w) => likePattern(w).test(a), negated: true },
};

export function evaluateCondition(condition: ConditionBlock | undefined, context: RequestContext): boolean {
  if (condition === undefined) return true;
  for (const [operator, keys] of Object.entries(condition)) {
    const matcher = MATCHERS[operator];
    if (!matcher) throw new Error(`condition operator ${operator} is not modelled by this evaluator`);
    for (const [key, raw] of Object.entries(keys)) {
      const wanted = Array.isArray(raw) ? raw : [raw];
      for (const value of wanted)
        if (typeof value !== "string" || value.includes("${"))
          throw new Error(`condition value ${JSON.stringify(value)} (policy variables) is not modelled`);
      const actual = context[key];
      if (actual === undefined) {
        if (!matcher.negated) return false;
        continue;
      }
      const any = wanted.some((w) => matcher.matches(actual, w));
      if (matcher.negated ? any : !any) return false;
    }
  }
  return true;
}

interface Statement {
  Effect: "Allow" | "Deny";
  Principal?: { Federated?: string | string[] };
  Action?: string | string[];
  Condition?: ConditionBlock;
  [other: string]: unknown;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Would STS let `federated` (the IAM OIDC provider's ARN) call `action` on the role with this request context? */
export function trustPolicyAllows(
  policy: { Statement: unknown },
  request: { federated: string; action: string; context: RequestContext },
): boolean {
  const statements = list(policy.Statement as Statement | Statement[]);
  const applies = (s: Statement) => {
    for (const unsupported of ["NotPrincipal", "NotAction"])
      if (unsupported in s) throw new Error(`${unsupported} is not modelled`);
    const principalMatches = list(s.Principal?.Federated).includes(request.federated);
    const actionMatches = list(s.Action).some((a) => likePattern(a).test(request.action));
    return principalMatches && actionMatches && evaluateCondition(s.Condition, request.context);
  };
  if (statements.some((s) => s.Effect === "Deny" && applies(s))) return false;
  return statements.some((s) => s.Effect === "Allow" && applies(s));
}

/** The request context AWS builds from a GitHub Actions OIDC token: only `aud` and `sub` become condition keys. */
export function githubTokenContext(
  claims: { aud: string | string[]; sub: string },
  host = "token.actions.githubusercontent.com",
): RequestContext {
  const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
  return { [`${host}:aud`]: aud, [`${host}:sub`]: claims.sub };
}
