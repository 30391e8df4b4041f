// Replacing a model's weights by name (a weights file over a DSL model): every tensor of the
// model given, no other, each with the model's shape. Errors name `source` and the tensor.
import { SlimcError } from './errors.ts';
import { formatShape } from './shapes.ts';
import type { Weight, Weights } from './types.ts';

export function replaceWeights(initial: Weights, given: Weights, source: string): Weights {
  const out: Record<string, Weight> = { ...initial };
  for (const [name, w] of Object.entries(given)) {
    const init = Object.hasOwn(initial, name) ? initial[name] : undefined;
    if (!init) throw new SlimcError(`holds tensor @${name}, which the model does not have`, source);
    if (formatShape(init.shape) !== formatShape(w.shape)) {
      throw new SlimcError(`tensor @${name} has shape ${formatShape(w.shape)}, the model needs ${formatShape(init.shape)}`, source);
    }
    out[name] = w;
  }
  const missing = Object.keys(initial).filter((n) => !Object.hasOwn(given, n));
  if (missing.length > 0) {
    const names = missing
      .slice(0, 5)
      .map((m) => `@${m}`)
      .join(', ');
    throw new SlimcError(`lacks ${missing.length} tensor(s) of the model: ${names}${missing.length > 5 ? ', ...' : ''}`, source);
  }
  return out;
}
