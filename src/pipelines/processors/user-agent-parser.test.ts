import { describe, expect, it } from 'vitest';
import type { Json } from '../../domain/log-event.ts';
import { makeLog } from '../../store/conformance.ts';
import { parseUserAgent, urlDecode, userAgentParser } from './user-agent-parser.ts';

const MAC_CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.5993.90 Safari/537.36';

function runOn(attributes: Record<string, Json>, over: Record<string, unknown> = {}) {
  const def = userAgentParser.schema.parse({ type: 'user-agent-parser', ...over });
  const run = userAgentParser.compile(def);
  const event = makeLog({ attributes });
  run({ event, remapped: new Set(), now: 0 });
  return { attrs: event.attributes, run };
}

const details = (attrs: Record<string, Json>) =>
  (attrs.http as Record<string, Json> | undefined)?.useragent_details;

describe('user-agent-parser: Datadog documented example', () => {
  it('parses client.user_agent into http.useragent_details exactly as documented', () => {
    const { attrs } = runOn(
      {
        client: { ip: '10.12.4.20', user_agent: MAC_CHROME },
        http: { method: 'GET', url: '/v1/orders', status_code: 200 },
        timestamp: 1696945536000,
      },
      { sources: ['client.user_agent'] },
    );
    expect(attrs).toEqual({
      client: { ip: '10.12.4.20', user_agent: MAC_CHROME },
      http: {
        method: 'GET',
        url: '/v1/orders',
        status_code: 200,
        useragent_details: {
          browser: { family: 'Chrome', major: '118', minor: '0', patch: '5993', patch_minor: '90' },
          device: { brand: 'Apple', category: 'Desktop', family: 'Mac', model: 'Mac' },
          os: { family: 'Mac OS X', major: '10', minor: '15', patch: '7' },
        },
      },
      timestamp: 1696945536000,
    });
  });

  it('has the documented defaults', () => {
    expect(userAgentParser.schema.parse({ type: 'user-agent-parser' })).toMatchObject({
      sources: ['http.useragent'],
      target: 'http.useragent_details',
      is_encoded: false,
      is_enabled: false,
    });
  });

  it('URL-decodes an encoded User-Agent (IIS logs) with is_encoded', () => {
    const iis =
      'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/120.0.0.0+Safari/537.36';
    const { attrs } = runOn({ http: { useragent: iis } }, { is_encoded: true });
    expect(details(attrs)).toMatchObject({
      browser: { family: 'Chrome', major: '120' },
      os: { family: 'Windows', major: '10' },
      device: { category: 'Desktop' },
    });
    const pct = encodeURIComponent(MAC_CHROME);
    expect(details(runOn({ http: { useragent: pct } }, { is_encoded: true }).attrs)).toMatchObject({
      os: { family: 'Mac OS X' },
    });
    // without is_encoded the encoded string is parsed as it is
    expect(details(runOn({ http: { useragent: pct } }).attrs)).toMatchObject({
      browser: { family: 'Other' },
    });
  });
});

describe('user-agent-parser: families', () => {
  it.each([
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1',
      { family: 'Mobile Safari', major: '17', minor: '1', patch: '2' },
      { family: 'iOS', major: '17', minor: '1', patch: '2' },
      { family: 'iPhone', category: 'Mobile', brand: 'Apple', model: 'iPhone' },
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
      { family: 'Chrome Mobile', major: '120', minor: '0', patch: '6099', patch_minor: '144' },
      { family: 'Android', major: '14' },
      { family: 'Pixel 8', category: 'Mobile', brand: 'Google', model: 'Pixel 8' },
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 14_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/87.0.4280.77 Mobile/15E148 Safari/604.1',
      { family: 'Chrome Mobile iOS', major: '87' },
      { family: 'iOS', major: '14', minor: '3' },
      { family: 'iPad', category: 'Tablet', brand: 'Apple' },
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
      { family: 'Edge', major: '120', minor: '0', patch: '2210', patch_minor: '91' },
      { family: 'Windows', major: '10' },
      { family: 'Other', category: 'Desktop' },
    ],
    [
      'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
      { family: 'Firefox', major: '121', minor: '0' },
      { family: 'Ubuntu' },
      { family: 'Other', category: 'Desktop' },
    ],
    [
      'Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0',
      { family: 'Firefox Mobile', major: '121' },
      { family: 'Android', major: '14' },
      { category: 'Mobile' },
    ],
    [
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
      { family: 'Chrome' },
      { family: 'Chrome OS', major: '14541', minor: '0', patch: '0' },
      { category: 'Desktop' },
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
      { family: 'HeadlessChrome', major: '120' },
      { family: 'Linux' },
      { category: 'Desktop' },
    ],
    [
      'Mozilla/5.0 (Windows NT 5.1) Gecko/20100101 Firefox/40.0',
      { family: 'Firefox', major: '40' },
      { family: 'Windows', major: 'XP' },
      { category: 'Desktop' },
    ],
  ])('%s', (ua, browser, os, device) => {
    const d = parseUserAgent(ua);
    expect(d.browser).toMatchObject(browser);
    expect(d.os).toMatchObject(os);
    expect(d.device).toMatchObject(device);
  });

  it.each([
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'Googlebot', '2'],
    ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'bingbot', '2'],
    [
      'Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)',
      'Yahoo! Slurp',
      undefined,
    ],
    ['Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)', 'SemrushBot', '7'],
    ['my-crawler', 'my-crawler', undefined],
  ])('recognises the bot in %s', (ua, family, major) => {
    const d = parseUserAgent(ua);
    expect(d.browser.family).toBe(family);
    expect(d.browser.major).toBe(major);
    expect(d.device).toEqual({ family: 'Spider', category: 'Bot' });
  });

  it('does not take a phone named CUBOT for a bot', () => {
    const d = parseUserAgent(
      'Mozilla/5.0 (Linux; Android 9; CUBOT X20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.99 Mobile Safari/537.36',
    );
    expect(d.device.category).toBe('Mobile');
    expect(d.browser.family).toBe('Chrome Mobile');
  });

  it('names a non-browser client by its leading product token', () => {
    expect(parseUserAgent('curl/8.4.0')).toEqual({
      browser: { family: 'curl', major: '8', minor: '4', patch: '0' },
      device: { family: 'Other', category: 'Other' },
      os: { family: 'Other' },
    });
    expect(parseUserAgent('okta-workflows/1.0 (+https://okta.com)').browser).toEqual({
      family: 'okta-workflows',
      major: '1',
      minor: '0',
    });
  });

  it('gives "Other" to what it cannot tell', () => {
    expect(parseUserAgent('???')).toEqual({
      browser: { family: 'Other' },
      device: { family: 'Other', category: 'Other' },
      os: { family: 'Other' },
    });
  });
});

describe('user-agent-parser: skipping and hostile input', () => {
  it.each([
    ['missing', {}],
    ['a number', { http: { useragent: 5 } }],
    ['null', { http: { useragent: null } }],
    ['an array', { http: { useragent: [MAC_CHROME] } }],
    ['empty', { http: { useragent: '   ' } }],
  ])('skips when the source is %s', (_, attributes) => {
    expect(details(runOn(structuredClone(attributes) as Record<string, Json>).attrs)).toBeUndefined();
  });

  it('takes the first source holding a string, into a custom target', () => {
    const { attrs } = runOn({ a: 1, b: MAC_CHROME }, { sources: ['a', 'b'], target: 'ua' });
    expect((attrs.ua as { os: { family: string } }).os.family).toBe('Mac OS X');
  });

  it('gives each log its own copy of a cached result', () => {
    const { run } = runOn({});
    const e1 = makeLog({ attributes: { http: { useragent: MAC_CHROME } } });
    const e2 = makeLog({ attributes: { http: { useragent: MAC_CHROME } } });
    run({ event: e1, remapped: new Set(), now: 0 });
    run({ event: e2, remapped: new Set(), now: 0 });
    const d1 = details(e1.attributes) as { os: { family: string } };
    d1.os.family = 'changed';
    expect((details(e2.attributes) as { os: { family: string } }).os.family).toBe('Mac OS X');
  });

  it('stays fast on a huge or pathological User-Agent', () => {
    const start = performance.now();
    parseUserAgent('a-'.repeat(200_000));
    parseUserAgent(`Mozilla/5.0 (${'('.repeat(100_000)}`);
    runOn({ http: { useragent: '%'.repeat(100_000) } }, { is_encoded: true });
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('keeps malformed escapes when decoding', () => {
    expect(urlDecode('a%2Fb%ZZc%E2%82')).toBe('a/b%ZZc%E2%82');
    expect(urlDecode('x+y%20z')).toBe('x y z');
  });
});
