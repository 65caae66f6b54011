import assert from "node:assert/strict";
import { it } from "node:test";
import { readZip, writeZip } from "../../src/core/zip.ts";

it("a written ZIP reads back file for file, and a corrupted one is refused", () => {
  const files = {
    "breakglass-7.age": Buffer.from("-----BEGIN AGE ENCRYPTED FILE-----\nabc\n"),
    "b.txt": Buffer.alloc(5000, 7),
  };
  const zip = writeZip(files);
  assert.equal(zip.readUInt32LE(0), 0x04034b50, "starts with a local file header");
  const read = readZip(zip);
  assert.deepEqual([...read.keys()], ["breakglass-7.age", "b.txt"]);
  assert.deepEqual(read.get("b.txt"), files["b.txt"]);
  assert.throws(() => readZip(Buffer.from("not a zip")), /not a ZIP archive/);
  const broken = Buffer.from(zip);
  const at = 30 + "breakglass-7.age".length + 2; // inside the first file's deflated data
  broken[at] = broken[at]! ^ 0xff;
  assert.throws(() => readZip(broken));
});
