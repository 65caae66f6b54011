#!/usr/bin/env node
// The `breakglass` command: runs the TypeScript CLI through tsx's loader.
import { register } from "tsx/esm/api";
import { fileURLToPath } from "node:url";

register();
const { main } = await import(fileURLToPath(new URL("../src/cli/main.ts", import.meta.url)));
const { processIO } = await import(fileURLToPath(new URL("../src/cli/io.ts", import.meta.url)));
process.exitCode = await main(process.argv.slice(2), processIO());
