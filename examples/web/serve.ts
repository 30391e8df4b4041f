// A tiny static file server for the example page and the browser test: serves a directory on
// 127.0.0.1 with the headers a page needs for tfjs-backend-wasm's threads (cross-origin
// isolation: COOP and COEP) and the right MIME types (.wasm must be application/wasm).
//
//   node --import tsx examples/web/serve.ts [--port 8080]    # serves the repository root
//   then open http://127.0.0.1:8080/examples/web/
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.slim': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** Cross-origin isolation: what makes SharedArrayBuffer, and so wasm threads, available. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export interface StaticServer {
  readonly url: string;
  readonly close: () => Promise<void>;
}

/** Serves `root` on 127.0.0.1 (port 0: any free port). Paths outside root are refused. */
export async function serveStatic(root: string, opts: { port?: number; isolated?: boolean } = {}): Promise<StaticServer> {
  const base = resolve(root);
  const headers = opts.isolated === false ? {} : ISOLATION_HEADERS;
  const server: Server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    let file = resolve(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      response.writeHead(403).end('forbidden');
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      await stat(file);
    } catch {
      response.writeHead(404, headers).end('not found');
      return;
    }
    response.writeHead(200, { ...headers, 'Content-Type': MIME_TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((done) => server.listen(opts.port ?? 0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(() => done())) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const portFlag = process.argv.indexOf('--port');
  const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 8080;
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const { url } = await serveStatic(root, { port });
  process.stdout.write(`serving ${root} at ${url} (cross-origin isolated); open ${url}/examples/web/\n`);
}
