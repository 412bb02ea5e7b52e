// The Splunk HEC receiver: an admin who configured ELS for Splunk only changes the URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../src/main.ts';
import { elsEvent } from './helpers/els.ts';
import { API_KEY, startTestServer } from './helpers/server.ts';

let srv: Running;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.close();
});

const hec = (body: string, auth: string | null = `Splunk ${API_KEY}`, path = '/services/collector/event') =>
  fetch(`${srv.url}${path}`, { method: 'POST', headers: auth === null ? {} : { authorization: auth }, body });

async function stored(execution: string) {
  const page = await srv.store.readLogs({ from: 0, to: Date.now() + 3_600_000, sort: 'desc', limit: 1000 });
  return page.logs.filter((l) => l.attributes.execution_id === execution);
}

describe('Splunk HEC', () => {
  it('accepts an ELS event in the {"event": …} envelope as Splunk answers, with the Okta service and source', async () => {
    const ev = elsEvent('flow_fail', { execution_id: 'hec-1', idempotency_key: 'hec-1' });
    const res = await hec(
      JSON.stringify({ event: ev, host: 'acme.workflows.okta.com', sourcetype: '_json' }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ text: 'Success', code: 0 });
    const [log] = await stored('hec-1');
    expect(log).toMatchObject({
      service: 'okta',
      source: 'okta-workflows-els',
      host: 'acme.workflows.okta.com',
    });
    expect(log!.attributes.splunk).toEqual({ sourcetype: '_json' });
    expect(log!.message).toMatch(/^Flow failed/);
  });

  it('accepts concatenated and newline-separated batches, with fields and time', async () => {
    const t = Math.floor(Date.now() / 1000) - 60;
    const body = `{"event":"first hec line","fields":{"execution_id":"hec-2"},"time":${t}}{"event":{"execution_id":"hec-2","note":"obj {with} \\"braces\\""}}\n{"event":"third","fields":{"execution_id":"hec-2"}}`;
    const res = await hec(body, `Splunk ${API_KEY}`, '/services/collector');
    expect(res.status).toBe(200);
    const logs = await stored('hec-2');
    expect(logs).toHaveLength(3);
    expect(logs.find((l) => l.message === 'first hec line')!.timestamp).toBe(t * 1000);
  });

  it.each([
    ['no token', null, 401, { text: 'Token is required', code: 2 }],
    ['a wrong token', 'Splunk nope', 403, { text: 'Invalid token', code: 4 }],
    ['another scheme', `Basic ${API_KEY}`, 401, { text: 'Token is required', code: 2 }],
  ])('answers %s with Splunk codes', async (_n, auth, status, body) => {
    const res = await hec('{"event":"x"}', auth);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(body);
  });

  it.each([
    ['', { text: 'No data', code: 5 }],
    ['{"fields":{}}', { text: 'Event field is required', code: 12, 'invalid-event-number': 0 }],
    [
      '{"event":"ok"}{"event":""}',
      { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 1 },
    ],
    ['{"event":"ok"}{"event":', { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 }],
    ['[1,2]', { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 }],
  ])('answers 400 to %j and stores nothing of it', async (body, answer) => {
    const before = await srv.store.countLogs();
    const res = await hec(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual(answer);
    expect(await srv.store.countLogs()).toBe(before);
  });

  it('answers the HEC health check', async () => {
    const res = await fetch(`${srv.url}/services/collector/health`);
    expect(await res.json()).toEqual({ text: 'HEC is healthy', code: 17 });
  });
});

describe('Splunk HEC limits', () => {
  it('answers 413 past 1000 events in one request and stores none', async () => {
    const before = await srv.store.countLogs();
    const res = await hec('{"event":"e"}'.repeat(1001));
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).text).toMatch(/at most 1000/);
    expect(await srv.store.countLogs()).toBe(before);
  });
});
