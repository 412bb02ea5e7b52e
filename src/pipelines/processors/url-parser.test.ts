import { describe, expect, it } from 'vitest';
import type { Json } from '../../domain/log-event.ts';
import { makeLog } from '../../store/conformance.ts';
import { parseUrl, urlParser } from './url-parser.ts';

function run(attributes: Record<string, Json>, over: Record<string, unknown> = {}): Record<string, Json> {
  const def = urlParser.schema.parse({ type: 'url-parser', ...over });
  const event = makeLog({ attributes });
  urlParser.compile(def)({ event, remapped: new Set(), now: 0 });
  return event.attributes;
}

describe('url-parser: Datadog documented example', () => {
  it('parses http.url into http.url_details by default', () => {
    const before = {
      client: { ip: '10.12.4.20' },
      http: {
        method: 'GET',
        url: 'https://api.example.com/v1/orders?user_id=12345&limit=20',
        status_code: 200,
      },
      timestamp: 1696945536000,
    };
    expect(run(structuredClone(before))).toEqual({
      client: { ip: '10.12.4.20' },
      http: {
        method: 'GET',
        url: 'https://api.example.com/v1/orders?user_id=12345&limit=20',
        url_details: {
          host: 'api.example.com',
          path: '/v1/orders',
          port: 443,
          queryString: { user_id: '12345', limit: '20' },
          scheme: 'https',
        },
        status_code: 200,
      },
      timestamp: 1696945536000,
    });
  });

  it('has the documented defaults', () => {
    const def = urlParser.schema.parse({ type: 'url-parser' });
    expect(def).toMatchObject({
      sources: ['http.url'],
      target: 'http.url_details',
      normalize_ending_slashes: false,
      is_enabled: false,
    });
    expect(
      urlParser.schema.parse({ type: 'url-parser', normalize_ending_slashes: null }).normalize_ending_slashes,
    ).toBe(null);
  });
});

describe('url-parser: details', () => {
  it('gives the explicit port, else the default of the scheme, else none', () => {
    expect(parseUrl('http://a.com:8080/x')).toMatchObject({ port: 8080, scheme: 'http' });
    expect(parseUrl('http://a.com/x')?.port).toBe(80);
    expect(parseUrl('https://a.com:443/x')?.port).toBe(443);
    expect(parseUrl('wss://a.com/socket')?.port).toBe(443);
    expect(parseUrl('custom://a.com/x')).toEqual({ host: 'a.com', path: '/x', scheme: 'custom' });
  });

  it('collects repeated parameters into an array, decodes values, gives "" to a bare parameter', () => {
    expect(parseUrl('http://a.com/?tag=a&tag=b&tag=c&q=hello+world%21&flag&empty=')?.queryString).toEqual({
      tag: ['a', 'b', 'c'],
      q: 'hello world!',
      flag: '',
      empty: '',
    });
  });

  it('omits queryString when there are no parameters, and never extracts credentials or the fragment', () => {
    expect(parseUrl('https://user:secret@a.com/p?#frag')).toEqual({
      host: 'a.com',
      path: '/p',
      port: 443,
      scheme: 'https',
    });
  });

  it('parses relative URLs as nginx logs them (path and query only)', () => {
    expect(parseUrl('/v1/orders?user_id=1')).toEqual({ path: '/v1/orders', queryString: { user_id: '1' } });
    expect(parseUrl('//cdn.example.com:8443/a.js')).toEqual({
      host: 'cdn.example.com',
      port: 8443,
      path: '/a.js',
    });
  });

  it('lowercases scheme and host, keeps IPv6 brackets, writes IDN hosts in punycode', () => {
    expect(parseUrl('HTTPS://API.Example.COM/Path')).toMatchObject({
      host: 'api.example.com',
      path: '/Path',
      scheme: 'https',
    });
    expect(parseUrl('http://[::1]:9000/')).toMatchObject({ host: '[::1]', port: 9000 });
    expect(parseUrl('https://bücher.example/')?.host).toBe('xn--bcher-kva.example');
  });

  it('removes ending slashes with normalize_ending_slashes only', () => {
    expect(parseUrl('https://a.com/a/b//')?.path).toBe('/a/b//');
    expect(parseUrl('https://a.com/a/b//', true)?.path).toBe('/a/b');
    expect(parseUrl('https://a.com/', true)?.path).toBe('/');
    expect(parseUrl('https://a.com', true)?.path).toBe('/');
    const attrs = run({ http: { url: 'https://a.com/x/' } }, { normalize_ending_slashes: true });
    expect((attrs.http as Record<string, Json>).url_details).toMatchObject({ path: '/x' });
    const asNull = run({ http: { url: 'https://a.com/x/' } }, { normalize_ending_slashes: null });
    expect((asNull.http as Record<string, Json>).url_details).toMatchObject({ path: '/x/' });
  });

  it('keeps hostile parameter names as plain keys', () => {
    const q = parseUrl('https://a.com/?__proto__=x&constructor=y&__proto__=z')?.queryString as Record<
      string,
      Json
    >;
    expect(Object.getPrototypeOf(q)).toBe(Object.prototype);
    expect(Object.hasOwn(q, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(q, '__proto__')?.value).toEqual(['x', 'z']);
    expect(q.constructor).toBe('y');
    expect(JSON.parse(JSON.stringify(q))).toEqual(JSON.parse('{"__proto__":["x","z"],"constructor":"y"}'));
  });
});

describe('url-parser: skipping', () => {
  it.each([
    ['missing', {}],
    ['a number', { http: { url: 42 } }],
    ['null', { http: { url: null } }],
    ['an object', { http: { url: { href: 'https://a.com' } } }],
    ['empty', { http: { url: '  ' } }],
    ['not a URL', { http: { url: 'not a url' } }],
    ['a host without scheme', { http: { url: 'example.com/path' } }],
    ['an invalid host', { http: { url: 'https://exa mple.com/' } }],
    ['a bad port', { http: { url: 'http://a.com:99999/' } }],
  ])('skips when the source is %s', (_, attributes) => {
    const attrs = run(structuredClone(attributes) as Record<string, Json>);
    expect((attrs.http as Record<string, Json> | undefined)?.url_details).toBeUndefined();
  });

  it('takes the first source holding a string and writes a custom target, replacing what was there', () => {
    const attrs = run(
      { a: 12, b: 'https://b.com/', c: 'https://c.com/', details: { stale: true } },
      { sources: ['missing', 'a', 'b', 'c'], target: 'details' },
    );
    expect(attrs.details).toEqual({ host: 'b.com', path: '/', port: 443, scheme: 'https' });
  });

  it('handles a very long URL', () => {
    const url = `https://a.com/${'x'.repeat(100_000)}?${Array.from({ length: 1000 }, (_, i) => `k${i}=${i}`).join('&')}`;
    const d = parseUrl(url) as Record<string, Json>;
    expect((d.path as string).length).toBe(100_001);
    expect(Object.keys(d.queryString as object)).toHaveLength(1000);
  });
});
