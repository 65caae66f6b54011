export interface BundledPackage {
  name: string;
  version: string;
  license: string;
  text: string;
}
export function bundledPackageDirs(metafile: { inputs: Record<string, unknown> }): string[];
export function readPackages(root: string, dirs: string[]): BundledPackage[];
export function renderNotices(packages: BundledPackage[]): string;
