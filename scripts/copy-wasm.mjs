// Puts the kernel module beside the compiled JavaScript, for runtimes that embed it directly.
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
copyFileSync(join(root, 'build', 'simdopt.wasm'), join(root, 'dist', 'simdopt.wasm'));
