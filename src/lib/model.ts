// The model the site loads, by name: a folder static/models/<name>/ holding config.json,
// model.safetensors and tokenizer.json. The name itself is kept in static/models/index.json,
// which the command-line tools read too, so the page and `npm run trace` always agree.
import index from '../../static/models/index.json';

export const DEFAULT_MODEL: string = index.default;
