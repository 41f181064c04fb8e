// A static "other ZecCloud site" for the embed tests and the benchmark: serves this folder
// (and, under /vendor/, files from node_modules) on HOST_PORT. On UPSTREAM_PORT it stands in
// for Matomo's tracking endpoint: it records what the consent service's gate forwards
// (GET /__received lists it). Plain node, no dependencies.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const modules = join(here, '..', 'node_modules');
const port = Number(process.env.HOST_PORT ?? 3101);
const upstreamPort = Number(process.env.UPSTREAM_PORT ?? 3102);
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

const received = [];
createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (url.pathname === '/__received') {
    response.writeHead(200, { 'content-type': 'application/json' });
    return response.end(JSON.stringify(received));
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    received.push({
      method: request.method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      headers: request.headers,
      body: Buffer.concat(chunks).toString(),
    });
    response.writeHead(204).end();
  });
}).listen(upstreamPort, '127.0.0.1');
