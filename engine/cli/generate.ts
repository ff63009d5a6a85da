// npm run generate -- --prompt "..." --tokens N --temperature T --top-k K --top-p P --seed S [--model DIR] [--json] [--no-cache]
//   [--past-eot: end-of-text stops nothing; it is fed back like any token]
import { createRunner } from '../backend';
import { generate } from '../generate';
import { loadModelDir, parseArgs, run } from './common';

run(async () => {
  const args = parseArgs(process.argv.slice(2), {
    prompt: 'string', tokens: 'number', temperature: 'number', 'top-k': 'number', 'top-p': 'number',
    seed: 'number', model: 'string', json: 'boolean', 'no-cache': 'boolean', 'past-eot': 'boolean'
  });
  const model = loadModelDir(args.model);
  const tok = model.tokenizer;
  const prompt = args.prompt ?? '';
  const ids = tok.encode(prompt);
  const steps = [];
  // a token can hold part of a character: a streaming decoder waits for the rest of it
  const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
  const runner = await createRunner(model, { backend: 'cpu' });
  for await (const step of generate(runner, model.config, ids, {
    maxTokens: args.tokens ?? 50,
    temperature: args.temperature ?? 1,
    topK: args['top-k'],
    topP: args['top-p'],
    seed: args.seed ?? 0,
    useCache: !args['no-cache'],
    eotId: args['past-eot'] ? -1 : undefined
  })) {
    steps.push(step);
    if (!args.json && steps.length === 1) process.stdout.write(prompt); // once the settings are known to be good
    if (!args.json && (step.chosen !== model.config.eos_token_id || args['past-eot'])) process.stdout.write(utf8.decode(tok.tokenBytes(step.chosen), { stream: true }));
  }
  const out = [...ids, ...steps.map((s) => s.chosen)];
  if (args.json) {
    const result = {
      ids: out,
      prompt_tokens: ids.length,
      text: tok.decode(out),
      pieces: out.map((id) => tok.tokenText(id)),
      stop: steps[steps.length - 1].stop,
      steps: steps.map((s) => ({
        chosen: s.chosen,
        cache_length: s.cacheLength,
        kept_mass: s.keptMass,
        top: s.top.map(({ id, p }) => ({ id, text: tok.tokenText(id), p }))
      }))
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  } else process.stdout.write(utf8.decode() + '\n');
});
