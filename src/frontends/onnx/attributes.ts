// Typed access to an ONNX node's attributes, with the defaults of the ONNX operator spec given by
// the caller. A missing attribute without a default, or one of the wrong type, is an error
// naming the node.
import { SlimcError } from '../../ir/errors.ts';
import { AttributeType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './proto.ts';

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [AttributeType.FLOAT]: 'float',
  [AttributeType.INT]: 'int',
  [AttributeType.STRING]: 'string',
  [AttributeType.TENSOR]: 'tensor',
  [AttributeType.FLOATS]: 'floats',
  [AttributeType.INTS]: 'ints',
  [AttributeType.STRINGS]: 'strings',
};

export class Attributes {
  private readonly byName: ReadonlyMap<string, OnnxAttribute>;

  constructor(
    node: OnnxNode,
    /** Names the node in errors. */
    private readonly where: string,
  ) {
    this.byName = new Map(node.attribute.map((a) => [a.name, a]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  private get(name: string, type: number): OnnxAttribute | undefined {
    const a = this.byName.get(name);
    // Old exporters leave `type` unset; then trust the field that is present.
    if (a && a.type !== undefined && a.type !== 0 && a.type !== type) {
      throw new SlimcError(`attribute '${name}' is of type ${TYPE_NAMES[a.type] ?? a.type}, expected ${TYPE_NAMES[type]}`, this.where);
    }
    return a;
  }

  private missing(name: string): never {
    throw new SlimcError(`attribute '${name}' is required`, this.where);
  }

  int(name: string, fallback?: number): number {
    const a = this.get(name, AttributeType.INT);
    if (a?.i !== undefined) return Number(a.i);
    return fallback ?? this.missing(name);
  }

  ints(name: string, fallback?: readonly number[]): number[] {
    const a = this.get(name, AttributeType.INTS);
    if (a) return a.ints.map(Number);
    return fallback ? [...fallback] : this.missing(name);
  }

  /** The ints of `name` if present, else undefined (for attributes whose default depends on inputs). */
  optionalInts(name: string): number[] | undefined {
    return this.has(name) ? this.ints(name) : undefined;
  }

  float(name: string, fallback?: number): number {
    const a = this.get(name, AttributeType.FLOAT);
    if (a?.f !== undefined) return a.f;
    return fallback ?? this.missing(name);
  }

  optionalFloat(name: string): number | undefined {
    return this.has(name) ? this.float(name) : undefined;
  }

  floats(name: string): number[] {
    const a = this.get(name, AttributeType.FLOATS);
    return a ? a.floats.map(Number) : this.missing(name);
  }

  string(name: string, fallback?: string): string {
    const a = this.get(name, AttributeType.STRING);
    if (a?.s !== undefined) return new TextDecoder().decode(a.s);
    return fallback ?? this.missing(name);
  }

  tensor(name: string): OnnxTensor | undefined {
    return this.get(name, AttributeType.TENSOR)?.t;
  }
}
