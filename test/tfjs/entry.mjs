// Browser entry of the adapter's test, bundled with esbuild: @tensorflow/tfjs (as users
// import it), its wasm backend, and the built simdopt and simdopt/tfjs.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as lib from '../../dist/index.js';
import * as adapter from '../../dist/tfjs/index.js';
import { run } from './program.mjs';

setWasmPaths(new URL('./', location.href).href);
tf.env().set('PROD', true);
run(tf, lib, adapter).then((r) => { window.__result = r; }, (e) => { window.__result = { error: String((e && e.stack) || e) }; });
