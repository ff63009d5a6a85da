import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
if (process.argv[2]) setWasmPaths(process.argv[2]);
await tf.setBackend('wasm');
for (const [M,K,N] of [[256,512,512],[64,128,512],[512,512,512]]) {
const a = tf.randomNormal([M,K]); const b = tf.randomNormal([K,N]);
  for (let i=0;i<5;i++) tf.tidy(()=>tf.matMul(a,b).dataSync());
  const s=performance.now(); for (let i=0;i<20;i++) tf.tidy(()=>tf.matMul(a,b).dataSync());
  const ms=(performance.now()-s)/20; console.error(M,K,N, ms.toFixed(2),'ms', (2*M*K*N/ms/1e6).toFixed(1),'GFLOPS');
}
