// Whether this host runs wasm relaxed SIMD without flags (Chrome 114+, Node 22+; Node 20 needs
// --experimental-wasm-relaxed-simd): the emitted runtime then gives slimc's conv kernels fused
// multiply-adds. For the tests and benchmarks that choose a process's flags by it.

/** (module (func (param v128 v128 v128) (result v128) (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))) */
const RELAXED_MADD_MODULE = '0061736d0100000001080160037b7b7b017b030201000a0d010b00200020012002fd85020b';

export const HOST_RELAXED_SIMD = WebAssembly.validate(Uint8Array.from(Buffer.from(RELAXED_MADD_MODULE, 'hex')));

/** Node's flag for relaxed SIMD, where this host needs it. */
export const RELAXED_SIMD_FLAGS: readonly string[] = HOST_RELAXED_SIMD ? [] : ['--experimental-wasm-relaxed-simd'];
