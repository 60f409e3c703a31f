/**
 * Helm's value coalescing (pkg/chartutil/coalesce.go), for `values-all.yaml`, what `helm get values --all` prints:
 * the chart's defaults with the user's values on top. Maps merge key by key, recursively; any other user value
 * replaces the default; a user `null` deletes the default key.
 */

type Values = Record<string, unknown>;

const isMap = (v: unknown): v is Values => v !== null && typeof v === 'object' && !Array.isArray(v);

export function coalesceValues(defaults: Values | null | undefined, user: Values | null | undefined): Values {
  return merge(defaults ?? {}, user ?? {});
}

function merge(defaults: Values, user: Values): Values {
  const out: Values = {};
  for (const [k, v] of Object.entries(defaults)) {
    if (!(k in user)) out[k] = structuredClone(v);
  }
  for (const [k, v] of Object.entries(user)) {
    if (v === null) continue; // null removes the chart's default
    const d = defaults[k];
    out[k] = isMap(v) && isMap(d) ? merge(d, v) : structuredClone(v);
  }
  return out;
}
