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
  /** statuses to answer the next accepted requests with, instead of success (e.g. 500, 429 with headers) */
  failNext: (number | { status: number; headers: Record<string, string> })[];
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** What a check sees of a request besides its body. */
interface RequestInfo {
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A 429 without headers asked for says Retry-After: 0 (tests need not wait). */
const retryAfterZero = (status: number): Record<string, string> =>
  status === 429 ? { 'retry-after': '0' } : {};

async function startFake(
  check: (body: unknown, req: RequestInfo) => string[],
  ok: (body: any, req: RequestInfo) => { status: number; type: string; text: string },
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
          problems = check(body, { path, headers: req.headers });
        } catch {
          problems = ['body is not JSON'];
        }
      const fail = problems.length === 0 ? f.failNext.shift() : undefined;
      if (fail !== undefined) {
        const f = typeof fail === 'object' ? fail : { status: fail, headers: retryAfterZero(fail) };
        res.writeHead(f.status, f.headers).end('');
        return;
      }
      let a: { status: number; type: string; text: string };
      if (problems.length > 0) {
        f.rejected.push({ path, problems });
        a = bad(problems);
      } else {
        f.received.push({ path, body, headers: req.headers });
        a = ok(body, { path, headers: req.headers });
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

const ELEMENTS = new Set(['TextBlock', 'FactSet', 'Container', 'ColumnSet', 'Image', 'RichTextBlock']);
const STYLES = ['default', 'emphasis', 'good', 'attention', 'warning', 'accent'];

/** Problems of one adaptive card element (and of a container's items). */
function elementProblems(el: Record<string, any>, at: string): string[] {
  if (!ELEMENTS.has(el?.type)) return [`${at}: unknown element ${String(el?.type)}`];
  if (el.type === 'TextBlock')
    return typeof el.text === 'string' && el.text !== '' ? [] : [`${at}: TextBlock needs text`];
  if (el.type === 'FactSet')
    return (el.facts ?? []).some((f: any) => typeof f?.title !== 'string' || typeof f?.value !== 'string')
      ? [`${at}: facts need string title and value`]
      : [];
  if (el.type !== 'Container') return [];
  const p = el.style === undefined || STYLES.includes(el.style) ? [] : [`${at}: bad container style`];
  return [...p, ...elementsProblems(el.items, `${at}.items`)];
}

function elementsProblems(els: unknown, at: string): string[] {
  if (!Array.isArray(els)) return [`${at} must be an array`];
  return els.flatMap((el, i) => elementProblems(el, `${at}[${i}]`));
}

/** Problems of a Teams Workflows webhook body; [] when it follows §7.4 (an adaptive card ≤ 1.4, ≤ 28 KB). */
export function teamsProblems(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return ['body must be a JSON object'];
  const b = body as Record<string, any>;
  const p: string[] = b.type === 'message' ? [] : ['type must be "message"'];
  if (!Array.isArray(b.attachments) || b.attachments.length !== 1) return [...p, 'one attachment expected'];
  const a = b.attachments[0];
  if (a.contentType !== 'application/vnd.microsoft.card.adaptive') p.push('attachments[0].contentType');
  if (a.contentUrl !== null) p.push('attachments[0].contentUrl must be null');
  const c = a.content;
  if (typeof c !== 'object' || c === null) return [...p, 'attachments[0].content must be a card'];
  if (c.type !== 'AdaptiveCard') p.push('content.type must be AdaptiveCard');
  if (!/^1\.[0-4]$/.test(String(c.version))) p.push('content.version must be 1.0–1.4 (Teams)');
  if (c.$schema !== 'http://adaptivecards.io/schemas/adaptive-card.json') p.push('content.$schema');
  p.push(...elementsProblems(c.body, 'content.body'));
  for (const act of c.actions ?? [])
    if (act?.type !== 'Action.OpenUrl' || typeof act.title !== 'string' || !/^https?:\/\//.test(act.url))
      p.push('actions must be Action.OpenUrl with a title and an http(s) url');
  if (Buffer.byteLength(JSON.stringify(b)) > 28 * 1024) p.push('card larger than 28 KB');
  return p;
}

/** A Teams Workflows webhook ("When a Teams webhook request is received"): 202 with an empty body. */
export function startTeamsFake(): Promise<Fake> {
  return startFake(
    teamsProblems,
    () => ({ status: 202, type: 'text/plain', text: '' }),
    (errors) => ({
      status: 400,
      type: 'application/json',
      text: JSON.stringify({ error: { code: 'InvalidRequestContent', message: errors.join('; ') } }),
    }),
  );
}

const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'];
const CLOSE_PATH = /^\/v2\/alerts\/([^/?]+)\/close\?identifierType=alias$/;

/** Problems of the string fields `limits` names (field → longest length). */
function stringProblems(b: Record<string, any>, limits: Record<string, number>): string[] {
  return Object.entries(limits)
    .filter(([k, max]) => b[k] !== undefined && (typeof b[k] !== 'string' || b[k].length > max))
    .map(([k, max]) => `${k} must be a string ≤ ${max}`);
}

function createProblems(b: Record<string, any>): string[] {
  const p = stringProblems(b, {
    message: 130,
    alias: 512,
    description: 15_000,
    entity: 512,
    source: 100,
    user: 100,
  });
  if (typeof b.message !== 'string' || b.message === '') p.push('message is required and can not be empty');
  if (b.priority !== undefined && !PRIORITIES.includes(b.priority)) p.push('priority must be P1..P5');
  const tags: unknown = b.tags ?? [];
  if (!Array.isArray(tags) || tags.length > 20) p.push('tags: an array of at most 20');
  else if (tags.some((t) => typeof t !== 'string' || t.length > 50)) p.push('each tag must be a string ≤ 50');
  const d: unknown = b.details ?? {};
  if (typeof d !== 'object' || d === null || Array.isArray(d)) p.push('details must be an object');
  else if (Object.values(d).some((v) => typeof v !== 'string')) p.push('details values must be strings');
  else if (JSON.stringify(d).length > 8000) p.push('details larger than 8000 characters');
  return p;
}

/** Problems of an Opsgenie Alert API request (create or close by alias); [] when it follows §7.5. */
export function opsgenieProblems(body: unknown, req: RequestInfo, apiKey: string): string[] {
  const p: string[] = [];
  if (req.headers.authorization !== `GenieKey ${apiKey}`) p.push('Authorization: GenieKey <key> is required');
  if (typeof body !== 'object' || body === null) return [...p, 'body must be a JSON object'];
  const b = body as Record<string, any>;
  if (req.path === '/v2/alerts') return [...p, ...createProblems(b)];
  if (CLOSE_PATH.test(req.path))
    return [...p, ...stringProblems(b, { user: 100, source: 100, note: 25_000 })];
  return [...p, `unknown path ${req.path}`];
}

/** Opsgenie's Alert API: create and close by alias, 202 `{"result":"Request will be processed",…}`. */
export function startOpsgenieFake(apiKey: string): Promise<Fake> {
  let n = 0;
  return startFake(
    (body, req) => opsgenieProblems(body, req, apiKey),
    () => ({
      status: 202,
      type: 'application/json',
      text: JSON.stringify({ result: 'Request will be processed', took: 0.1, requestId: `req-${++n}` }),
    }),
    (errors) =>
      errors[0]?.startsWith('Authorization')
        ? {
            status: 401,
            type: 'application/json',
            text: JSON.stringify({ message: 'Could not authenticate' }),
          }
        : {
            status: 422,
            type: 'application/json',
            text: JSON.stringify({
              message: 'Request body is not processable. Please check the errors.',
              errors,
            }),
          },
  );
}
