// How the tests compare a tensor of ours with the same tensor from an independent implementation.
//
// Relative difference of a (ours) and b (the reference):
//   max over elements i of |a_i − b_i| / max(|a_i|, |b_i|, floor),  floor = 0.1 · max_i |b_i|.
// Every element within a tenth of the tensor's largest magnitude (the top logits, the attention
// weights that matter, the large gradient entries) is held to the tolerance relative to its own
// value; smaller ones to a tenth of the tolerance relative to the largest. The floor is there
// because both sides compute in float32: a logit is a sum of C products as large as the largest
// logits, so its rounding error (a few ulp of the tensor's scale) does not shrink when the sum
// happens to cancel to almost nothing, and without a floor such an element would make any two
// correct float32 implementations "differ" by 100%. A wrong mask, head order, layout or epsilon
// moves values by a large fraction of the scale and fails by orders of magnitude.
export const FLOOR_FRACTION = 0.1;

export interface Diff {
  rel: number; // the relative difference above
  abs: number; // max |a_i − b_i|
  scale: number; // max |b_i|
}

export function maxRelDiff(ours: ArrayLike<number>, ref: ArrayLike<number>): Diff {
  if (ours.length !== ref.length) throw new Error(`cannot compare tensors of ${ours.length} and ${ref.length} elements`);
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
  const floor = FLOOR_FRACTION * scale;
  let rel = 0;
  let abs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    if (!(d <= Number.MAX_VALUE)) return { rel: Infinity, abs: Infinity, scale }; // NaN or infinity anywhere fails
    abs = Math.max(abs, d);
    if (d > 0) rel = Math.max(rel, d / Math.max(Math.abs(ours[i]), Math.abs(ref[i]), floor));
  }
  return { rel, abs, scale };
}

export function worst(ds: Diff[]): Diff {
  return { rel: Math.max(...ds.map((d) => d.rel)), abs: Math.max(...ds.map((d) => d.abs)), scale: Math.max(...ds.map((d) => d.scale)) };
}

export const formatDiff = (d: Diff) => `max rel ${d.rel.toExponential(2)} (max abs ${d.abs.toExponential(2)}, scale ${d.scale.toPrecision(3)})`;
