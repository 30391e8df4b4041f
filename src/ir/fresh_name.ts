// The one convention for new names of values, weights and layers that must not collide with
// names already taken (frontends, passes, exporters): `base` if it is free, else `base_1`,
// `base_2`, ... (the first free one). Names a user gave stay as they are whenever they are free.

export function freshName(base: string, taken: (name: string) => boolean): string {
  if (!taken(base)) return base;
  for (let k = 1; ; k++) {
    const name = `${base}_${k}`;
    if (!taken(name)) return name;
  }
}
