// npm run trace -- --prompt "..." [--temperature T --top-k K --top-p P --top N] [--ablate L.H[,L.H|L.all...]] [--lens K] [--keys a,b] [--model DIR] --json
// Prints the tokens, every head's attention weights (weights[i][j]: how much token i attends to
// token j) and the next-token distribution: at temperature 1 unless told otherwise, its kept set
// (top-k, top-p) renormalised, and the mass that set held before. With --ablate, those heads (or a
// layer's whole attention, L.all) are switched off for the pass, as the site's ablation figure does.
import { describeAblation, parseAblations } from '../ablation';
import { createRunner } from '../backend';
import { EngineError } from '../errors';
import { distribution } from '../sampling';
import { layerTraceKeys, modelTraceKeys, type Trace, type TraceKey } from '../gpt';
import { logitLens } from '../logit-lens';
import type { Model } from '../model';
import { loadModelDir, parseArgs, run } from './common';

run(async () => {
  const args = parseArgs(process.argv.slice(2), {
    prompt: 'string', model: 'string', json: 'boolean', top: 'number', temperature: 'number', 'top-k': 'number', 'top-p': 'number', ablate: 'string', lens: 'number', keys: 'string'
  });
  const model = loadModelDir(args.model);
  const tok = model.tokenizer;
  const ids = tok.encode(args.prompt ?? '');
  const ablate = args.ablate === undefined ? [] : parseAblations(args.ablate, model.config);
  const runner = await createRunner(model, { backend: 'cpu' });
  const { logits, trace } = await runner.forward(ids, { trace: ['attn.weights', ...keysAsked(args.keys), ...(args.lens ? (['x0', 'res2'] as const) : [])], ablate });
  const T = ids.length;
  const V = model.config.vocab_size;
  const dist = distribution(logits.subarray((T - 1) * V), { temperature: args.temperature ?? 1, topK: args['top-k'], topP: args['top-p'] });
  const n = args.top ?? 10;
  if (!Number.isInteger(n) || n < 1) throw new EngineError('bad_argument', `--top must be a whole number of at least 1, got ${n}.`);
  const top = Array.from(dist.kept.subarray(0, n), (id) => ({ id, text: tok.tokenText(id), p: dist.probs[id] }));
  const layers = trace.layers.map((layer) => {
    const w = layer['attn.weights']!; // (nh, T, T)
    return {
      heads: Array.from({ length: model.config.n_head }, (_, h) => ({
        weights: Array.from({ length: T }, (_, i) => Array.from(w.data.subarray((h * T + i) * T, (h * T + i + 1) * T)))
      }))
    };
  });
  const pieces = ids.map((id) => tok.tokenText(id));
  if (args.json) {
    const extra = { ...(args.keys ? { tensors: tracedRows(trace, keysAsked(args.keys)) } : {}), ...(args.lens ? { lens: lensRows(model, trace, args.lens) } : {}) };
    process.stdout.write(JSON.stringify({ ids, pieces, layers, top, kept_count: dist.kept.length, kept_mass: dist.keptMass, ablate, ...extra }) + '\n');
    return;
  }
  console.log(`${T} tokens: ${pieces.map((p) => JSON.stringify(p)).join(' ')}`);
  if (ablate.length > 0) console.log(`switched off: ${ablate.map(describeAblation).join('; ')}`);
  console.log(`next token (${dist.kept.length} kept, holding ${(dist.keptMass * 100).toFixed(2)}% before renormalising):`);
  for (const t of top) console.log(`  ${(t.p * 100).toFixed(2).padStart(6)}%  ${JSON.stringify(t.text)} (${t.id})`);
});

// --keys res1,res2,x0: which traced tensors to print as well (rows of numbers, `h.<l>.<key>` per layer)
function keysAsked(list: string | undefined): TraceKey[] {
  if (!list) return [];
  const known: readonly string[] = [...layerTraceKeys, ...modelTraceKeys];
  return list.split(',').map((k) => {
    if (!known.includes(k)) throw new EngineError('bad_argument', `Unknown trace key "${k}" in --keys. Known: ${known.join(', ')}`);
    return k as TraceKey;
  });
}

function tracedRows(trace: Trace, keys: TraceKey[]): Record<string, { shape: number[]; data: number[] }> {
  const out: Record<string, { shape: number[]; data: number[] }> = {};
  const put = (name: string, t: { shape: number[]; data: Float32Array } | undefined) => {
    if (t) out[name] = { shape: t.shape, data: Array.from(t.data) };
  };
  for (const key of keys) {
    put(key, (trace as unknown as Record<string, { shape: number[]; data: Float32Array } | undefined>)[key]);
    trace.layers.forEach((layer, l) => put(`h.${l}.${key}`, (layer as Record<string, { shape: number[]; data: Float32Array } | undefined>)[key]));
  }
  return out;
}

// --lens K: the logit lens at every position: lens[t][r] is the top K after the embedding (r = 0)
// and after block r-1, from engine/logit-lens.ts
function lensRows(model: Model, trace: Trace, k: number) {
  if (!Number.isInteger(k) || k < 1) throw new EngineError('bad_argument', `--lens must be a whole number of at least 1, got ${k}.`);
  const C = model.config.n_embd;
  const T = trace.x0!.shape[0];
  const L = trace.layers.length;
  return Array.from({ length: T }, (_, t) => {
    const stream = new Float32Array((L + 1) * C); // (L+1, C)
    stream.set(trace.x0!.data.subarray(t * C, (t + 1) * C), 0);
    trace.layers.forEach((layer, l) => stream.set(layer.res2!.data.subarray(t * C, (t + 1) * C), (l + 1) * C));
    return logitLens(model, stream, k).map((guesses) => guesses.map((g) => ({ id: g.id, text: model.tokenizer.tokenText(g.id), p: g.p })));
  });
}
