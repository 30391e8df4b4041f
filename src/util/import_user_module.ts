// Importing a user's module (a model or a data set) by path, from wherever it is: TypeScript or
// JavaScript, ESM or CommonJS, in a package with or without "type": "module". A TypeScript file
// loads through tsx, which is imported only then: JavaScript models and every other command
// never pay for it.
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/**
 * The module's namespace. A module compiled to CommonJS (a .ts file in a package without
 * "type": "module", or hand-written `exports.default = ...`) arrives as { default: exports } with
 * exports.__esModule set; its exports are the namespace the user wrote.
 */
export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(process.cwd(), path)).href;
  let namespace: Record<string, unknown>;
  if (TYPESCRIPT_EXTENSIONS.has(extname(path).toLowerCase())) {
    // tsImport, not a global register(): tsx's global hooks make Node load a .ts file of an
    // untyped package through require(), which fails ("Cannot require() ES Module in a cycle").
    const { tsImport } = await import('tsx/esm/api');
    namespace = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  } else {
    namespace = (await import(url)) as Record<string, unknown>;
  }
  const inner = namespace.default;
  const compiledFromEsm = typeof inner === 'object' && inner !== null && (inner as { __esModule?: unknown }).__esModule === true;
  return compiledFromEsm ? (inner as Record<string, unknown>) : namespace;
}
