// Switching heads off (the forward pass's `ablate` option, engine/gpt.ts) and measuring what it
// changed: how far the next-token distribution moved. Pure functions, shared by the site's figure
// and `npm run trace -- --ablate`.
import type { GPTConfig } from './config';
import { EngineError } from './errors';
import { checkAblations, type Ablation } from './gpt';

// KL(p ‖ q) = Σ p log(p / q), in nats: the extra surprise, on average, of expecting q when the
// text really follows p. 0 when they are equal; infinite when q rules out a token p allows.
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkPair(p, q);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) continue;
    if (q[i] === 0) return Infinity;
    s += p[i] * Math.log(p[i] / q[i]);
  }
  return Math.max(0, s); // rounding can leave a tiny negative for equal distributions
}

// ½ Σ |p − q|: the largest difference in probability the two give to any set of tokens.
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  checkPair(p, q);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i] - q[i]);
  return s / 2;
}

function checkPair(p: ArrayLike<number>, q: ArrayLike<number>): void {
  if (p.length !== q.length || p.length === 0) {
    throw new EngineError('bad_shape', `Two distributions over the same tokens are needed (got ${p.length} and ${q.length}).`);
  }
}

// "2.3" (layer 2, head 3) or "2.all" (layer 2's whole attention), comma-separated for several.
export function parseAblations(spec: string, config: GPTConfig): Ablation[] {
  const out = spec.split(',').map((part) => {
    const m = /^\s*(\d+)\.(\d+|all)\s*$/.exec(part);
    if (!m) throw new EngineError('bad_ablation', `"${part}" is not a head: write LAYER.HEAD (2.3) or LAYER.all (2.all).`);
    return { layer: Number(m[1]), head: m[2] === 'all' ? 'all' : Number(m[2]) } as Ablation;
  });
  checkAblations(config, out);
  return out;
}

export function describeAblation(a: Ablation): string {
  return a.head === 'all' ? `layer ${a.layer}, all heads` : `layer ${a.layer}, head ${a.head}`;
}
