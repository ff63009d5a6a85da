// The one place that names the model the site loads. Models live in static/models/<name>/
// (config.json, model.safetensors, tokenizer.json). A trained model replaces this later.
export const DEFAULT_MODEL = 'tiny-random';
