// Importing a user's module (a model or a data set) by path. A TypeScript file loads through
// tsx, which is imported only then: JavaScript models and every other command never pay for it.
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

let tsxReady: Promise<void> | undefined;

/** tsx's ESM loader, registered once per process. */
function registerTsx(): Promise<void> {
  tsxReady ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return tsxReady;
}

/** The module at `path` (relative to the working directory), TypeScript or JavaScript. */
export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT_EXTENSIONS.has(extname(path).toLowerCase())) await registerTsx();
  return (await import(pathToFileURL(resolve(process.cwd(), path)).href)) as Record<string, unknown>;
}
