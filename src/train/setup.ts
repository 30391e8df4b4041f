// One call that makes tfjs ready to train graphs: the backend, tfjs's gradient functions, the
// replacement wasm backward kernels and the dilation-aware conv gradients.
import { initBackend, backendInfo, type BackendInfo, type BackendName } from '../interp/backend.ts';
import { registerDilatedConvGradients, registerWasmTrainingKernels } from './kernels/register.ts';
import { registerTfjsGradients } from './tfjs_gradients.ts';

/** Starts `backend` (wasm by default) with everything training needs; idempotent. */
export async function prepareTraining(backend: BackendName = 'wasm'): Promise<BackendInfo> {
  registerTfjsGradients();
  registerDilatedConvGradients();
  // The wasm package registers its kernels when first imported; ours must come after.
  await import('@tensorflow/tfjs-backend-wasm');
  registerWasmTrainingKernels();
  await initBackend(backend);
  return backendInfo();
}
