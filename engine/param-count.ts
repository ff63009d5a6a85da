// Where a GPT's parameters sit: embeddings, and per block the attention and MLP sublayers, summed
// from the same list of tensors the model is built from (config.ts paramShapes), so the count for
// GPT-2 or GPT-3 comes from the formula that builds our model.
import { paramShapes, type GPTConfig } from './config';

export interface ParamBreakdown {
  embedding: number; // wte (V, C) + wpe (n_positions, C); wte doubles as the output head
  attention: number; // one block's c_attn + c_proj, weights and biases
  mlp: number; // one block's c_fc + c_proj
  norms: number; // one block's two LayerNorms
  finalNorm: number; // ln_f
  perLayer: number; // attention + mlp + norms
  total: number;
}

export function paramBreakdown(c: GPTConfig): ParamBreakdown {
  const sizes = paramShapes(c).map(([name, shape]) => [name, shape.reduce((a, b) => a * b, 1)] as const);
  const sum = (test: (name: string) => boolean) => sizes.reduce((n, [name, k]) => (test(name) ? n + k : n), 0);
  // every block has the same shapes, so block 0 stands for each of them
  const attention = sum((n) => n.startsWith('h.0.attn.'));
  const mlp = sum((n) => n.startsWith('h.0.mlp.'));
  const norms = sum((n) => n.startsWith('h.0.ln_'));
  const embedding = sum((n) => n === 'wte.weight' || n === 'wpe.weight');
  const finalNorm = sum((n) => n.startsWith('ln_f.'));
  const perLayer = attention + mlp + norms;
  return { embedding, attention, mlp, norms, finalNorm, perLayer, total: embedding + c.n_layer * perLayer + finalNorm };
}
