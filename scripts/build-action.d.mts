import type { BuildOptions } from "esbuild";
export const ACTION_BUILD: BuildOptions;
