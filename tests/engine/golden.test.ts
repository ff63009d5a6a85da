// The golden test (llama2.c keeps its expected stdout in a test the same way): the shipped model's
// greedy continuations of fixed prompts, token for token. Any change in the numerics of the
// forward pass, the sampler or the tokenizer that alters what the site shows breaks it.
//
// The expected ids were produced once by running this engine (generate() on the CPU backend,
// greedy, as below) on static/models/brown-4k-h8 as committed, and pasted here. If the model is
// retrained on purpose, regenerate them the same way and update the model card's samples with it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunner } from '../../engine/backend';
import { loadModelDir, modelsDir } from '../../engine/cli/common';
import { generate } from '../../engine/generate';

const model = loadModelDir(join(modelsDir, 'brown-4k-h8'));

const golden = [
  {
    name: 'stops at <|endoftext|> after 10 tokens',
    prompt: 'She looked at him and',
    ids: [749, 44, 289, 310, 328, 258, 837, 1493, 46, 4095],
    text: ' then, and he was a good thing.<|endoftext|>',
    stop: 'eot'
  },
  {
    name: 'runs the full 40 tokens into a greedy loop',
    prompt: 'The President of the United States',
    ids: [
      44, 289, 260, 1212, 1231, 275, 2018, 44, 289, 260, 1212, 1231, 275, 2018, 44, 289, 260, 1212, 1231, 275,
      2018, 44, 289, 260, 1212, 1231, 44, 289, 260, 1212, 1231, 275, 2018, 44, 289, 260, 1212, 1231, 44, 289
    ],
    text: ', and the United States of America, and the United States of America, and the United States of America, and the United States, and the United States of America, and the United States, and',
    stop: 'max_tokens'
  }
];

describe('golden: brown-4k-h8 greedy continuations', () => {
  it.each(golden)('"$prompt": $name', async ({ prompt, ids, text, stop }) => {
    const runner = await createRunner(model, { backend: 'cpu' });
    const out: number[] = [];
    let last: string | undefined;
    for await (const step of generate(runner, model.config, model.tokenizer.encode(prompt), { maxTokens: 40, temperature: 0 })) {
      out.push(step.chosen);
      last = step.stop;
    }
    expect(out).toEqual(ids);
    expect(model.tokenizer.decode(out)).toBe(text);
    expect(last).toBe(stop);
  });
});
