import { test } from "node:test";
import assert from "node:assert/strict";
import { compileCodeowners, locateCodeowners, parseCodeowners } from "../../src/core/codeowners.ts";

// The example CODEOWNERS file from GitHub's "About code owners" documentation, with the behaviour the
// documentation states for each line (last matching line wins).
const DOCS_EXAMPLE = `# This is a comment.
# These owners will be the default owners for everything in the repo.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most precedence.
*.js    @js-owner #This is an inline comment.

*.go docs@example.com

*.txt @octo-org/octocats

/build/logs/ @doctocat

docs/*  docs@example.com

apps/ @octocat

/docs/ @doctocat

/scripts/ @doctocat @octocat

**/logs @octocat

/apps/ @octocat
/apps/github
`;

const co = compileCodeowners(DOCS_EXAMPLE);
const owners = (path: string) => co.ownersOf(path).owners;

test("the documentation example parses without errors, inline comments stripped", () => {
  assert.deepEqual(co.errors, []);
  assert.deepEqual(co.rules.find((r) => r.pattern === "*.js")?.owners, ["@js-owner"]);
});

test("* : default owners for everything", () => {
  assert.deepEqual(owners("README.md"), ["@global-owner1", "@global-owner2"]);
});

test("*.js anywhere; *.go to an email; *.txt to a team", () => {
  assert.deepEqual(owners("src/deep/app.js"), ["@js-owner"]);
  assert.deepEqual(owners("main.go"), ["docs@example.com"]);
  assert.deepEqual(owners("notes/a.txt"), ["@octo-org/octocats"]);
});

test("/build/logs/ only at the root, and everything under it (later lines still win)", () => {
  const only = compileCodeowners("* @d\n/build/logs/ @doctocat\n");
  assert.deepEqual(only.ownersOf("build/logs/today/x.log").owners, ["@doctocat"]);
  assert.deepEqual(only.ownersOf("src/build/logs/x.log").owners, ["@d"]);
  assert.deepEqual(
    owners("build/logs/x.log"),
    ["@octocat"],
    "in the full example, **/logs comes later and wins",
  );
});

test("docs/* matches docs/a.md but not docs/sub/b.md (unlike gitignore)", () => {
  // /docs/ (a later line) owns both, so check docs/* on its own.
  const only = compileCodeowners("* @d\ndocs/* docs@example.com\n");
  assert.deepEqual(only.ownersOf("docs/getting-started.md").owners, ["docs@example.com"]);
  assert.deepEqual(only.ownersOf("docs/build-app/troubleshooting.md").owners, ["@d"]);
  assert.deepEqual(
    only.ownersOf("a/docs/x.md").owners,
    ["@d"],
    "a slash in the pattern anchors it to the root",
  );
});

test("apps/ matches an apps directory anywhere; /apps/ only at the root; /apps/github un-owns", () => {
  const only = compileCodeowners("* @d\napps/ @octocat\n");
  assert.deepEqual(only.ownersOf("src/apps/x.js").owners, ["@octocat"]);
  assert.deepEqual(owners("apps/web/index.html"), ["@octocat"]);
  assert.deepEqual(co.ownersOf("apps/github/x.rb"), { owners: [], line: 25, pattern: "/apps/github" });
});

test("/docs/ at the root, /scripts/ to two owners, **/logs anywhere", () => {
  assert.deepEqual(owners("docs/sub/b.md"), ["@doctocat"]);
  assert.deepEqual(owners("scripts/deploy.sh"), ["@doctocat", "@octocat"]);
  assert.deepEqual(owners("a/b/logs/c.txt"), ["@octocat"]);
});

test("paths are case-sensitive and no match gives nulls", () => {
  const only = compileCodeowners("/Docs/ @a\n");
  assert.deepEqual(only.ownersOf("docs/x.md"), { owners: [], line: null, pattern: null });
  assert.deepEqual(only.ownersOf("Docs/x.md").owners, ["@a"]);
});

test("lines GitHub reports as errors are reported, not guessed", () => {
  const { errors, rules } = parseCodeowners("\\#file @a\n!/x @b\n/[ab].md @c\n/ok @d bob @\n");
  assert.deepEqual(
    errors.map((e) => e.line),
    [1, 2, 3, 4, 4],
  );
  assert.deepEqual(
    rules.map((r) => [r.pattern, r.owners]),
    [["/ok", ["@d"]]],
  );
});

test("the CODEOWNERS file is looked up in .github/, the root, then docs/", () => {
  assert.equal(
    locateCodeowners((p) => p === "docs/CODEOWNERS" || p === "CODEOWNERS"),
    "CODEOWNERS",
  );
  assert.equal(
    locateCodeowners((p) => p === "docs/CODEOWNERS"),
    "docs/CODEOWNERS",
  );
  assert.equal(
    locateCodeowners(() => false),
    null,
  );
});
