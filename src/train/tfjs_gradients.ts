// Registers tfjs's gradient functions with tfjs-core.
//
// Importing @tensorflow/tfjs-core registers no gradients ("gradient function not found for
// Sum"). The module that does, tfjs-core's dist/register_all_gradients.js, is an ES module
// with extensionless relative imports that Node cannot resolve. The CommonJS node bundle of
// @tensorflow/tfjs-layers (same version, pinned) inlines exactly that module, so requiring it
// registers every gradient. Kernel and gradient registries live in one global namespace shared
// by every copy of tfjs-core code, so the bundle's registrations serve our tfjs-core too; the
// test checks that they do.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { SlimcError } from '../ir/errors.ts';

let registered = false;

/** Makes tf.grad and friends work; idempotent. */
export function registerTfjsGradients(): void {
  if (registered) return;
  // require, not import: the package's "module" entry is the unbundled ES build, which has the
  // same extensionless imports; "main" is the CommonJS bundle we want.
  createRequire(import.meta.url)('@tensorflow/tfjs-layers');
  if (tf.getGradient('Sum') === undefined) {
    throw new SlimcError(
      'loading @tensorflow/tfjs-layers registered no gradient functions; is its version the same as @tensorflow/tfjs-core?',
    );
  }
  registered = true;
}
