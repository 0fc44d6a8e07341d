import { runDemo, oneCycleSpeedup } from './src/demo/run.ts';
const t0 = Date.now();
const r = await runDemo({ onProgress: (d, t, run) => console.log(d, t, run.optimizer, run.schedule, run.finalLoss.toFixed(4), run.accuracy.toFixed(3), run.stepsToTarget, run.ms.toFixed(0)) });
console.log(JSON.stringify(oneCycleSpeedup(r)), (Date.now() - t0) / 1000, 's');
