import { run } from "./post.ts";

/** The bundled post step (dist/post.js). */
await run();
