// A GPU binds at most maxStorageBufferBindingSize bytes of one buffer to a shader (128 MiB by
// default, often less on phones), and GPT-2's token embedding alone is 154 MB. So a weight matrix
// that does not fit is cut into column blocks, each its own buffer and its own dispatch: a matmul's
// output columns are independent, so the blocks never need to meet.
import { EngineError } from '../../errors';

export interface ColumnBlock {
  col0: number; // first column
  cols: number; // columns in the block, a multiple of 4 (the kernels read vec4s)
}

// Blocks covering `cols` columns (a multiple of 4) where one column costs bytesPerColumn in the
// largest buffer a block needs; blocks are as even as the multiple of 4 allows.
export function columnBlocks(cols: number, bytesPerColumn: number, maxBytes: number): ColumnBlock[] {
  if (!Number.isInteger(cols) || cols <= 0 || cols % 4 !== 0) {
    throw new EngineError('bad_split', `Column blocks need a positive multiple of 4 columns, got ${cols}.`);
  }
  const fit = Math.floor(maxBytes / bytesPerColumn / 4) * 4; // widest block that fits
  if (fit < 4) {
    throw new EngineError(
      'bad_split',
      `Four columns of ${bytesPerColumn} bytes each do not fit in a ${maxBytes}-byte GPU binding.`
    );
  }
  const n = Math.ceil(cols / fit);
  const width = Math.ceil(cols / n / 4) * 4;
  const blocks: ColumnBlock[] = [];
  for (let col0 = 0; col0 < cols; col0 += width) blocks.push({ col0, cols: Math.min(width, cols - col0) });
  return blocks;
}

// Columns col0..col0+cols of m (rows, stride), as a dense (rows, cols) array; columns past
// m's width (padding up to a multiple of 4) are 0.
export function sliceColumns(m: Float32Array, rows: number, stride: number, block: ColumnBlock): Float32Array {
  const out = new Float32Array(rows * block.cols);
  const have = Math.max(0, Math.min(block.cols, stride - block.col0));
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * stride + block.col0, r * stride + block.col0 + have), r * block.cols);
  return out;
}

// Rows col0..col0+cols of m (rows, cols), transposed: a (cols, block.cols) block of mᵀ, with rows
// past m's end (padding up to a multiple of 4) as 0. The tied output head, logits = h @ wteᵀ, is
// then an ordinary matmul over blocks of wteᵀ (C, V).
export function transposedBlock(m: Float32Array, rows: number, cols: number, block: ColumnBlock): Float32Array {
  const out = new Float32Array(cols * block.cols);
  const have = Math.max(0, Math.min(block.cols, rows - block.col0));
  for (let j = 0; j < have; j++) {
    const r = (block.col0 + j) * cols;
    for (let c = 0; c < cols; c++) out[c * block.cols + j] = m[r + c];
  }
  return out;
}
