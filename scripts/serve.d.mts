import type { Server } from 'node:http';

/** Serves `root` over loopback; see serve.mjs. */
export function serve(root: string, options?: { port?: number; host?: string; isolated?: boolean }): Promise<{ server: Server; url: string }>;
