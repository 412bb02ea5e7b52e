// Local fakes of Slack incoming webhooks and PagerDuty's Events API v2 that check each request against the
// documented contract (datadog-compat.md §7.2, §7.3) and answer as the services do: Slack `200 ok` or
// `400 invalid_payload`; PagerDuty `202 {"status":"success",…,"dedup_key"}` or `400 invalid event`.
import { createServer, type Server } from 'node:http';

/** Problems of a Slack incoming-webhook body; [] when it follows §7.2. */
export function slackProblems(body: unknown): string[] {
  const p: string[] = [];
  if (typeof body !== 'object' || body === null) return ['body must be a JSON object'];
  const b = body as Record<string, unknown>;
  if (typeof b.text !== 'string' || b.text === '') p.push('text (the fallback) must be a non-empty string');
  const checkBlocks = (blocks: unknown, where: string) => {
    if (!Array.isArray(blocks)) return p.push(`${where} must be an array`);
    if (blocks.length > 50) p.push(`${where}: at most 50 blocks`);
    for (const [i, x] of blocks.entries()) {
      const blk = x as Record<string, any>;
      const at = `${where}[${i}]`;
      switch (blk?.type) {
        case 'header':
          if (blk.text?.type !== 'plain_text' || typeof blk.text.text !== 'string')
            p.push(`${at}: header needs plain_text`);
          else if (blk.text.text.length > 150) p.push(`${at}: header text > 150`);
          break;
        case 'section':
          if (blk.text === undefined && blk.fields === undefined)
            p.push(`${at}: section needs text or fields`);
          if (blk.text !== undefined) {
            if (!['mrkdwn', 'plain_text'].includes(blk.text.type) || typeof blk.text.text !== 'string')
              p.push(`${at}: bad text object`);
            else if (blk.text.text.length > 3000) p.push(`${at}: text > 3000`);
          }
          if (blk.fields !== undefined) {
            if (!Array.isArray(blk.fields) || blk.fields.length > 10) p.push(`${at}: fields must be ≤ 10`);
            for (const f of blk.fields ?? [])
              if (typeof f?.text !== 'string' || f.text.length > 2000) p.push(`${at}: bad field`);
          }
          break;
        case 'context':
          if (!Array.isArray(blk.elements) || blk.elements.length === 0 || blk.elements.length > 10)
            p.push(`${at}: context needs 1–10 elements`);
          break;
        case 'actions':
          if (!Array.isArray(blk.elements) || blk.elements.length === 0 || blk.elements.length > 25)
            p.push(`${at}: actions needs 1–25 elements`);
          for (const el of blk.elements ?? [])
            if (
              el.type === 'button' &&
              (el.text?.type !== 'plain_text' || (el.url && !/^https?:\/\//.test(el.url)))
            )
              p.push(`${at}: bad button`);
          break;
        case 'divider':
          break;
        default:
          p.push(`${at}: unknown block type ${String(blk?.type)}`);
      }
    }
  };
  if (b.blocks !== undefined) checkBlocks(b.blocks, 'blocks');
  if (b.attachments !== undefined) {
    if (!Array.isArray(b.attachments)) p.push('attachments must be an array');
    for (const [i, a] of ((b.attachments as Record<string, unknown>[]) ?? []).entries()) {
      if (a.color !== undefined && !/^#[0-9A-Fa-f]{6}$|^(good|warning|danger)$/.test(String(a.color)))
        p.push(`attachments[${i}].color must be a hex colour`);
      if (a.blocks !== undefined) checkBlocks(a.blocks, `attachments[${i}].blocks`);
    }
  }
  return p;
}

const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** Problems of a PagerDuty Events API v2 event; [] when it follows §7.3. */
export function pagerDutyProblems(body: unknown): string[] {
  const p: string[] = [];
  if (typeof body !== 'object' || body === null) return ['body must be a JSON object'];
  const b = body as Record<string, any>;
  if (typeof b.routing_key !== 'string' || b.routing_key.length === 0) p.push('routing_key is required');
  if (!['trigger', 'acknowledge', 'resolve'].includes(b.event_action)) p.push('event_action is invalid');
  if (b.dedup_key !== undefined && (typeof b.dedup_key !== 'string' || b.dedup_key.length > 255))
    p.push('dedup_key must be a string ≤ 255');
  if (b.event_action !== 'trigger' && typeof b.dedup_key !== 'string') p.push('dedup_key is required');
  if (b.event_action === 'trigger') {
    const pl = b.payload;
    if (typeof pl !== 'object' || pl === null) p.push('payload is required');
    else {
      if (typeof pl.summary !== 'string' || pl.summary.length === 0 || pl.summary.length > 1024)
        p.push('payload.summary must be 1–1024 characters');
      if (typeof pl.source !== 'string' || pl.source.length === 0) p.push('payload.source is required');
      if (!SEVERITIES.includes(pl.severity)) p.push('payload.severity is invalid');
      if (pl.timestamp !== undefined && Number.isNaN(Date.parse(pl.timestamp))) p.push('payload.timestamp');
      for (const k of ['component', 'group', 'class'])
        if (pl[k] !== undefined && typeof pl[k] !== 'string') p.push(`payload.${k} must be a string`);
      if (
        pl.custom_details !== undefined &&
        (typeof pl.custom_details !== 'object' || pl.custom_details === null)
      )
        p.push('payload.custom_details must be an object');
    }
    for (const l of b.links ?? [])
      if (typeof l?.href !== 'string' || !/^https?:\/\//.test(l.href)) p.push('links[].href must be a URL');
  }
  if (JSON.stringify(b).length > 512 * 1024) p.push('event larger than 512 KB');
  return p;
}

/** A fake that received requests. */
export interface Fake<T = any> {
  url: string;
  /** parsed bodies of accepted requests, with their path */
  received: { path: string; body: T; headers: Record<string, unknown> }[];
  /** rejected requests and why */
  rejected: { path: string; problems: string[] }[];
  /** statuses to answer the next accepted requests with, instead of success (e.g. 500, 429) */
  failNext: number[];
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

async function startFake(
  check: (body: unknown) => string[],
  ok: (body: any) => { status: number; type: string; text: string },
  bad: (problems: string[]) => { status: number; type: string; text: string },
): Promise<Fake> {
  const f: Fake = {
    url: '',
    received: [],
    rejected: [],
    failNext: [],
    waitFor: async (n, ms = 15_000) => {
      const end = Date.now() + ms;
      while (f.received.length < n) {
        if (Date.now() > end) throw new Error(`fake: ${f.received.length} requests, waited for ${n}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      let body: unknown;
      let problems: string[];
      if (req.method !== 'POST') problems = ['method must be POST'];
      else if (!String(req.headers['content-type']).startsWith('application/json'))
        problems = ['Content-Type must be application/json'];
      else
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          problems = check(body);
        } catch {
          problems = ['body is not JSON'];
        }
      const fail = problems.length === 0 ? f.failNext.shift() : undefined;
      if (fail !== undefined) {
        res.writeHead(fail, fail === 429 ? { 'retry-after': '0' } : {}).end('');
        return;
      }
      let a: { status: number; type: string; text: string };
      if (problems.length > 0) {
        f.rejected.push({ path, problems });
        a = bad(problems);
      } else {
        f.received.push({ path, body, headers: req.headers });
        a = ok(body);
      }
      res.writeHead(a.status, { 'content-type': a.type }).end(a.text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  f.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return f;
}

/** A Slack incoming webhook: any path is a channel's webhook. */
export function startSlackFake(): Promise<Fake> {
  return startFake(
    slackProblems,
    () => ({ status: 200, type: 'text/plain', text: 'ok' }),
    () => ({ status: 400, type: 'text/plain', text: 'invalid_payload' }),
  );
}

/** PagerDuty's Events API v2 at `/v2/enqueue`. */
export function startPagerDutyFake(): Promise<Fake> {
  return startFake(
    pagerDutyProblems,
    (b) => ({
      status: 202,
      type: 'application/json',
      text: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: b.dedup_key }),
    }),
    (errors) => ({
      status: 400,
      type: 'application/json',
      text: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }),
    }),
  );
}
