// Serves the playground (and the built package it imports): http://localhost:8080/playground/
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { url } = await serve(root, { port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '127.0.0.1' });
console.log(`playground: ${url}/playground/  (Ctrl-C to stop)`);
