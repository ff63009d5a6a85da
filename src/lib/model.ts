// The model the site loads, by name: a folder static/models/<name>/ holding config.json,
// model.safetensors and tokenizer.json. static/models/index.json names the default for the
// command-line tools; tests/lib/model.test.ts checks that the two agree.
export const DEFAULT_MODEL = 'brown-4k-h8';
