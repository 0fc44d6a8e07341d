// Entry for Node, Deno and Bun: prints the program's result as JSON.
import { run } from './program.mjs';

console.log(JSON.stringify(await run()));
