// Makes sure the site's default model (static/models/<name>/, named by static/models/index.json)
// is on disk, with a clear message when it is not: it is committed, and `npm run train` rebuilds it.
import { existsSync, readFileSync } from 'node:fs';

export function ensureModel() {
  const { default: name } = JSON.parse(readFileSync('static/models/index.json', 'utf8'));
  const missing = ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => `static/models/${name}/${f}`).filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`The default model "${name}" is incomplete (missing ${missing.join(', ')}); \`npm run train\` rebuilds it.`);
  }
}
