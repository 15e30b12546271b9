// Property values as JSON values of their own type, for destinations that take typed JSON
// (Segment, Umami). Values are strings today; typed values (`string | number | boolean`) are
// coming: the guards below send each value as the type it has, so both work unchanged.

/** A property value as a destination that takes typed JSON receives it. */
export type JsonScalar = string | number | boolean

/** `value` as a JSON scalar of its own type, or undefined for what JSON cannot carry (NaN, ±Infinity, objects). */
export function jsonScalar (value: unknown): JsonScalar | undefined {
  switch (typeof value) {
    case 'string': return value
    case 'number': return Number.isFinite(value) ? value : undefined
    case 'boolean': return value
    default: return undefined
  }
}
