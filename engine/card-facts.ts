// The training facts of a model card (static/models/<name>/MODEL_CARD.md, written by
// engine/cli/model-card.ts), read back from its tables, so a chapter can set our run beside large
// ones without typing our numbers in.
import { EngineError } from './errors';

export interface CardFacts {
  params: number;
  tokensSeen: number;
  wallSeconds: number;
  cpuSeconds: number;
}

// "1,334,016" -> 1334016
const int = (s: string) => Number(s.replaceAll(',', ''));

// "106 min 17 s" or "45 s" or "2 h 3 min 4 s" -> seconds
function duration(s: string): number {
  let total = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)\s*(h|min|s)\b/g)) total += Number(n) * (unit === 'h' ? 3600 : unit === 'min' ? 60 : 1);
  return total;
}

export function cardFacts(card: string): CardFacts {
  const row = (name: string) => {
    const m = card.match(new RegExp(`^\\|\\s*${name}\\s*\\|\\s*([^|]+)\\|`, 'm'));
    if (!m) throw new EngineError('bad_card', `The model card has no "${name}" row.`);
    return m[1].trim();
  };
  const params = int(row('parameters').split(' ')[0]);
  const tokensSeen = int(row('tokens seen').split(' ')[0]);
  const time = row('time');
  const wall = time.match(/^(.*?) wall clock/);
  const cpu = time.match(/, (.*?) of CPU time/);
  if (!wall || !cpu) throw new EngineError('bad_card', `The model card's time row "${time}" does not say its wall clock and CPU time.`);
  const facts = { params, tokensSeen, wallSeconds: duration(wall[1]), cpuSeconds: duration(cpu[1]) };
  for (const [k, v] of Object.entries(facts)) if (!(v > 0)) throw new EngineError('bad_card', `The model card's ${k} is not a positive number.`);
  return facts;
}
