// The training chapter's worker calls, run directly in Node, where their limits are: a model whose
// scoring buffers would not fit the page gets a clear refusal, not a failed allocation.
import { readFileSync } from 'node:fs';
import { afterEach, expect, it, vi } from 'vitest';
import { makeConfig } from '../../../engine/config';
import { randomModel } from '../../../engine/model';
import { Tokenizer } from '../../../engine/tokenizer';
import { createTrainingApi } from '../../../src/lib/engine/training';
import type { EngineContext } from '../../../src/lib/engine/api';

afterEach(() => vi.unstubAllGlobals());

it('scoring a model too large for the page says how much it would take, and that the other figures run', async () => {
  // few parameters, but GPT-2's context and a wide vocabulary: the logits alone outgrow 1 GiB
  const tokenizer = Tokenizer.train('the cat sat on the mat', 257).padded(70_000);
  const model = randomModel(makeConfig('micro', { vocab_size: 70_000, n_positions: 1024, n_embd: 8, n_layer: 1, n_head: 1 }), tokenizer);
  const ctx = { requireModel: () => model } as unknown as EngineContext;
  vi.stubGlobal('fetch', async () => new Response(readFileSync('static/data/brown-heldout.json')));
  const api = createTrainingApi(ctx);
  await expect(api.textScore('https://example.test/data/brown-heldout.json', 'The cat sat.')).rejects.toThrow(
    /training forward pass, whose buffers for this model \(context 1,024, vocabulary 70,000\) would take \d+\.\d GiB, more than the 1\.0 GiB this page gives it\. The other figures run on this model/
  );
});
