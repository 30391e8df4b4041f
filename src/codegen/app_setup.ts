// What an app needs to run an emitted module: the two TensorFlow.js packages it imports, at the
// exact versions slimc compiled and checked it against (written as peerDependencies into the
// output's package.json), the one `npm i` line, and for pages without a bundler an import map.
import { createRequire } from 'node:module';

/** The packages model.js imports. */
export const TFJS_PACKAGES = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm'] as const;

/** Package name -> the exact version installed beside slimc. */
export function tfjsVersions(): Record<(typeof TFJS_PACKAGES)[number], string> {
  const require = createRequire(import.meta.url);
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  return Object.fromEntries(TFJS_PACKAGES.map((name) => [name, version(name)])) as Record<(typeof TFJS_PACKAGES)[number], string>;
}

/** `npm i @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0` */
export function npmInstallLine(versions = tfjsVersions()): string {
  return `npm i ${Object.entries(versions)
    .map(([name, version]) => `${name}@${version}`)
    .join(' ')}`;
}

/**
 * An import map for a page that loads model.js without a bundler, from a CDN. The wasm backend
 * finds its .wasm files beside the module the map names; the Node built-ins the backend's bundle
 * mentions are mapped to empty modules (it never calls them in a browser).
 */
export function importMapSnippet(versions = tfjsVersions()): string {
  const cdn = (name: keyof typeof versions, file: string) => `https://cdn.jsdelivr.net/npm/${name}@${versions[name]}/dist/${file}`;
  const imports = {
    '@tensorflow/tfjs-core': cdn('@tensorflow/tfjs-core', 'tf-core.fesm.js'),
    '@tensorflow/tfjs-backend-wasm': cdn('@tensorflow/tfjs-backend-wasm', 'tf-backend-wasm.fesm.js'),
    ...Object.fromEntries(['fs', 'path', 'perf_hooks', 'os'].map((builtin) => [builtin, 'data:text/javascript,export default {}'])),
  };
  return `<script type="importmap">\n${JSON.stringify({ imports }, null, 2)}\n</script>`;
}
