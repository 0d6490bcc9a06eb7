/**
 * Feature rows as the model takes them: either one array per row, or one row-major
 * `Float32Array` of `rows × featureNames.length` values (cheaper for large batches).
 */
export type FeatureMatrix = Float32Array | readonly (readonly number[])[];

/** A {@link FeatureMatrix} checked against the feature count and flattened row-major. */
export interface DenseMatrix {
  readonly values: Float32Array;
  readonly rows: number;
  readonly columns: number;
}

/** Flattens and checks the shape of `x`; throws a `RangeError` naming the offending row. */
export function toDenseMatrix(x: FeatureMatrix, columns: number): DenseMatrix {
  if (x instanceof Float32Array) {
    if (x.length % columns !== 0) {
      throw new RangeError(
        `a flat feature matrix of ${x.length} values is not a whole number of ${columns}-feature rows`,
      );
    }
    return { values: x, rows: x.length / columns, columns };
  }
  const values = new Float32Array(x.length * columns);
  x.forEach((row, i) => {
    if (row.length !== columns) {
      throw new RangeError(`feature row ${i} has ${row.length} values, expected ${columns}`);
    }
    values.set(row, i * columns);
  });
  return { values, rows: x.length, columns };
}

/** Checks that `y` holds one 0/1 label per row and returns them as float32 for tfjs. */
export function toLabels(y: ArrayLike<number>, rows: number): Float32Array {
  if (y.length !== rows) {
    throw new RangeError(`got ${y.length} labels for ${rows} feature rows`);
  }
  const labels = new Float32Array(rows);
  for (let i = 0; i < rows; i += 1) {
    const label = y[i] as number;
    if (label !== 0 && label !== 1) {
      throw new RangeError(`label at index ${i} is not 0 or 1: ${label}`);
    }
    labels[i] = label;
  }
  return labels;
}
