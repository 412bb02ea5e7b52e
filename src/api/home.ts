// The page at `/` until the web UI lands: tells an admin that Flowwatch runs and how to point Okta at it.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from './server.ts';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Registers GET / (HTML, no key: it shows no data, only where to send it). */
export function registerHome(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/', async (req, reply) => {
    const base = deps.settings.public_url ?? `${req.protocol}://${req.headers.host ?? 'localhost:8080'}`;
    const intake = escapeHtml(`${base.replace(/\/$/, '')}/api/v2/logs`);
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flowwatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
code,pre{background:#f3f4f6;border-radius:4px;padding:.1rem .3rem}pre{padding:.8rem;overflow:auto}
.ok{color:#1a7f37}.bad{color:#cf222e}</style></head>
<body><h1>Flowwatch</h1>
<p>Status: <strong id="status">checking…</strong></p>
<h2>Point Okta Workflows at Flowwatch</h2>
<p>Workflows console → Settings → Execution log streaming → Edit:</p>
<ul><li>URL: <code>${intake}</code></li><li>Header: <code>DD-API-KEY: &lt;your Flowwatch API key&gt;</code></li>
<li>Body template:</li></ul>
<pre>{ "ddtags": "env:production,service:okta", "ddsource": "okta-workflows-els", "hostname": "&lt;your org&gt;.workflows.okta.com", "message": "\${event}", "service": "okta" }</pre>
<p>Search from a terminal: <code>npx flowwatch search --from now-1h</code>. Metrics: <a href="/metrics">/metrics</a>.</p>
<script>fetch('/healthz').then(r=>r.json().then(b=>{const s=document.getElementById('status');
s.textContent=r.ok?'running, storing logs in '+b.store:'not ready ('+(b.detail||b.status)+')';s.className=r.ok?'ok':'bad'}))
.catch(()=>{const s=document.getElementById('status');s.textContent='unreachable';s.className='bad'})</script>
</body></html>`;
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
