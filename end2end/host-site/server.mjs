// A static "other ZecCloud site" for the embed tests and the benchmark: serves this folder
// (and, under /vendor/, files from node_modules) on HOST_PORT. Plain node, no dependencies.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const modules = join(here, '..', 'node_modules');
const port = Number(process.env.HOST_PORT ?? 3101);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

createServer(async (request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
  const file = path.startsWith('/vendor/') ? join(modules, path.slice('/vendor/'.length)) : join(here, path);
  if (!file.startsWith(here) && !file.startsWith(modules)) return response.writeHead(403).end();
  try {
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    response.end(body);
  } catch {
    response.writeHead(404).end('not found');
  }
}).listen(port, '127.0.0.1');
