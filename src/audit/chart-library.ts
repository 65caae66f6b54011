import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

let cached: Promise<string> | null = null;

/**
 * Chart.js's UMD build, to inline into the HTML report so it opens without any network. The package
 * exports only its entry points, so the file is found next to the resolved entry.
 */
export function readChartJs(): Promise<string> {
  cached ??= (async () => {
    const entry = createRequire(import.meta.url).resolve("chart.js");
    const source = await readFile(join(dirname(entry), "chart.umd.min.js"), "utf8");
    // Inside <script>, these would end the element or switch the parser into escaped-comment mode.
    if (/<\/script|<!--/i.test(source))
      throw new Error("chart.umd.min.js contains </script or <!--: it cannot be inlined as it is");
    return source;
  })();
  return cached;
}
