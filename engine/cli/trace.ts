// npm run trace -- --prompt "..." [--temperature T --top-k K --top-p P --top N] [--ablate L.H[,L.H|L.all...]] [--model DIR] --json
// Prints the tokens, every head's attention weights (weights[i][j]: how much token i attends to
// token j) and the next-token distribution: at temperature 1 unless told otherwise, its kept set
// (top-k, top-p) renormalised, and the mass that set held before. With --ablate, those heads (or a
// layer's whole attention, L.all) are switched off for the pass, as the site's ablation figure does.
import { describeAblation, parseAblations } from '../ablation';
import { createRunner } from '../backend';
import { EngineError } from '../errors';
import { distribution } from '../sampling';
import { loadModelDir, parseArgs, run } from './common';

run(async () => {
  const args = parseArgs(process.argv.slice(2), {
    prompt: 'string', model: 'string', json: 'boolean', top: 'number', temperature: 'number', 'top-k': 'number', 'top-p': 'number', ablate: 'string'
  });
  const model = loadModelDir(args.model);
  const tok = model.tokenizer;
  const ids = tok.encode(args.prompt ?? '');
  const ablate = args.ablate === undefined ? [] : parseAblations(args.ablate, model.config);
  const runner = await createRunner(model, { backend: 'cpu' });
  const { logits, trace } = await runner.forward(ids, { trace: ['attn.weights'], ablate });
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
    process.stdout.write(JSON.stringify({ ids, pieces, layers, top, kept_count: dist.kept.length, kept_mass: dist.keptMass, ablate }) + '\n');
    return;
  }
  console.log(`${T} tokens: ${pieces.map((p) => JSON.stringify(p)).join(' ')}`);
  if (ablate.length > 0) console.log(`switched off: ${ablate.map(describeAblation).join('; ')}`);
  console.log(`next token (${dist.kept.length} kept, holding ${(dist.keptMass * 100).toFixed(2)}% before renormalising):`);
  for (const t of top) console.log(`  ${(t.p * 100).toFixed(2).padStart(6)}%  ${JSON.stringify(t.text)} (${t.id})`);
});
