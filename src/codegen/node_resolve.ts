// Lets Node import an emitted model.js from a directory with no node_modules above it (an
// output dir in /tmp, say), so that `slimc compile` can run the module it has just written:
// bare imports of the TensorFlow.js packages that fail to resolve from the module's own place
// are resolved again from slimc's installation. Only those packages are affected, and only when
// their normal resolution fails.
import { register } from 'node:module';

const HOOK = `
let base;
export function initialize(data) {
  base = data.base;
}
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    if (!specifier.startsWith('@tensorflow/tfjs-')) throw e;
    return next(specifier, { ...context, parentURL: base });
  }
}
`;

let registered = false;

export function resolveTfjsFromSlimc(): void {
  if (registered) return;
  registered = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { base: import.meta.url } });
}
