// npm run bench [-- inference] [--model DIR] [--no-webgpu] [--json]   batch-1 generation in Chromium: ours vs tfjs
//                                          (bench/inference.ts), on the shipped model or any model folder, with the
//                                          memory-bandwidth bound; --no-webgpu leaves out both WebGPU rows (on a
//                                          software adapter a GPT-2-small token takes them seconds to minutes)
// npm run bench -- train [--json] [--threads N]   training throughput in Node: ours (1 thread, fused kernels
//                                          on 1 and N threads, N = 2 by default) vs tfjs-wasm (bench/train.ts)
//
// Speed is reported as ratios against a peer measured in the same run, on the same weights, never
// as absolute targets: absolute numbers depend on the machine and on whatever else it is doing.
// With --json, stdout carries exactly one JSON object; progress goes to stderr.
import { EngineError } from '../engine/errors';
import { run } from '../engine/cli/common';
import { runInference, type InferenceReport } from './inference';
import type { Row } from './page/main';

const usage = 'usage: npm run bench [-- inference | train] [--model DIR] [--no-webgpu] [--json] [--steps N] [--batch B] [--seq T] [--threads N]';

function parse(argv: string[]) {
  const out = { command: 'inference', json: false, noWebgpu: false, numbers: {} as Record<string, number>, model: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--no-webgpu') out.noWebgpu = true;
    else if (a === '--model') {
      out.model = argv[++i];
      if (!out.model) throw new EngineError('bad_argument', `--model needs a folder. ${usage}`);
    }
    else if (/^--(steps|batch|seq|threads)$/.test(a)) {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new EngineError('bad_argument', `${a} needs a whole number ≥ 1. ${usage}`);
      out.numbers[a.slice(2)] = n;
    } else if (a === 'inference' || a === 'train') out.command = a;
    else throw new EngineError('bad_argument', `Unknown argument "${a}". ${usage}`);
  }
  if (out.command === 'inference' && Object.keys(out.numbers).length > 0) {
    throw new EngineError('bad_argument', `--steps, --batch, --seq and --threads belong to "train". ${usage}`);
  }
  return out;
}

// five significant digits: beyond them a timing is noise
const round = (x: number) => Number(x.toPrecision(5));

const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

// two significant digits, at least two decimals: 0.012, 0.49, 7.51
const ratio = (x: number) => (x < 0.1 ? x.toPrecision(2) : x.toFixed(2));

function table(header: string[], rows: string[][]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const by0 = (r: InferenceReport, n: Row['name']) => r.contenders.find((c) => c.row?.name === n)?.row;

function printInference(r: InferenceReport): void {
  const rows = r.contenders.filter((c) => c.row).map((c) => c.row!);
  const out: string[] = [];
  out.push(`model: ${r.model.name} (${r.model.nParams.toLocaleString('en-US')} parameters, context ${r.model.n_positions}), batch 1`);
  out.push(`device: ${r.device}`);
  out.push('');
  out.push(table(
    ['', 'ms/token (median)', 'prefill 64 (ms)', 'tokens/s', 'max |Δlogit| vs ours-cpu'],
    r.contenders.map((c) => c.row
      ? [c.name, fmt(c.row.ms_per_token, 3), fmt(c.row.prefill_ms_64, 1), fmt(c.row.tokens_per_s, 1), (c.maxLogitDiff ?? NaN).toExponential(1)]
      : [c.name, '—', '—', '—', 'unavailable'])
  ));
  out.push('');
  for (const c of r.contenders) out.push(c.row ? `${c.name}: ${c.detail}; median over ${c.decodeSteps} decode steps` : `${c.name}: unavailable: ${c.unavailable}`);
  const bw = r.bandwidth;
  const cpuRow = by0(r, 'ours-cpu');
  out.push('');
  out.push(`memory-bandwidth bound for decode: ${(bw.weightBytes / 1e6).toFixed(1)} MB of float32 weights ÷ ${(bw.bytesPerS / 1e9).toFixed(2)} GB/s read (measured in the page) = ${bw.boundMs.toFixed(3)} ms/token`);
  if (cpuRow) out.push(`  ours-cpu: ${cpuRow.ms_per_token.toFixed(3)} ms/token = ${(cpuRow.ms_per_token / bw.boundMs).toFixed(2)}× the bound`);
  out.push('');
  out.push('ratios ours/tfjs (time per token and prefill time; below 1 means ours is faster):');
  const by = (n: Row['name']) => rows.find((x) => x.name === n);
  for (const [ours, peer] of [['ours-cpu', 'tfjs-wasm'], ['ours-webgpu', 'tfjs-webgpu'], ['ours-webgpu', 'tfjs-wasm']] as const) {
    const a = by(ours);
    const b = by(peer);
    if (a && b) out.push(`  ${ours} / ${peer}: per token ${ratio(a.ms_per_token / b.ms_per_token)}×, prefill ${ratio(a.prefill_ms_64 / b.prefill_ms_64)}×`);
    else out.push(`  ${ours} / ${peer}: not measured (${!a ? ours : peer} unavailable)`);
  }
  out.push('');
  out.push('tokens/s = 1000 / median ms per decode step (batch 1, KV cache, logits read back every step).');
  out.push('tfjs decodes with its own KV cache (TfjsDecoder in tests/reference/tfjs-gpt.ts): weights uploaded');
  out.push('once, head pre-transposed, keys cached transposed, tf.tidy; the same weights as ours.');
  if (/swiftshader/i.test(r.device)) {
    out.push('NOTE: WebGPU here is SwiftShader, a CPU emulation of a GPU: the webgpu rows say nothing about real GPUs.');
  }
  console.log(out.join('\n'));
}

run(async () => {
  const args = parse(process.argv.slice(2));
  const progress = (line: string) => process.stderr.write(line + '\n');
  if (args.command === 'inference') {
    const report = await runInference(progress, args.model, { noWebgpu: args.noWebgpu });
    if (args.json) {
      const rows = report.contenders.filter((c) => c.row).map(({ row }) => ({
        name: row!.name, ms_per_token: round(row!.ms_per_token), prefill_ms_64: round(row!.prefill_ms_64), tokens_per_s: round(row!.tokens_per_s)
      }));
      process.stdout.write(JSON.stringify({ rows, device: report.device, bandwidth: report.bandwidth }) + '\n');
      for (const c of report.contenders) if (!c.row) progress(`${c.name}: unavailable: ${c.unavailable}`);
    } else printInference(report);
    return;
  }
  const { runTrain, printTrain } = await import('./train');
  const report = await runTrain({ steps: args.numbers.steps, batch: args.numbers.batch, seq: args.numbers.seq, threads: args.numbers.threads }, progress);
  if (args.json) process.stdout.write(JSON.stringify({ rows: report.rows.map((r) => ({ name: r.name, tokens_per_s: round(r.tokens_per_s) })) }) + '\n');
  else printTrain(report);
});
