import { run } from "./main.ts";

/** The bundled entry point (dist/index.js): the runner starts it, it runs the Action once. */
await run();
