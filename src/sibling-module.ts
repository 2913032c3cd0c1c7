/**
 * The URL of a module next to another, with the caller's own extension, so a
 * worker thread's entry resolves whether the code runs from its .ts sources
 * (tsx) or from built .js files.
 */
export function siblingModuleUrl(moduleUrl: string, baseName: string): string {
  const here = new URL(moduleUrl);
  const ext = here.pathname.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${baseName}${ext}`, here).href;
}
