// The bare baseline for single-event intake: node:http, read the body, JSON.parse it, answer 202 {}.
// Run as a child: `node --import tsx bench/baseline-server.ts PORT`; GET answers 200 for the health wait.
import http from 'node:http';

const port = Number(process.argv[2]);

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":["Malformed payload"]}');
    }
  });
});

server.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
