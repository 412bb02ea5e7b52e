import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from './settings.ts';

const file = (text: string) => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'fw-cfg-')), 'flowwatch.yaml');
  writeFileSync(f, text);
  return f;
};

describe('loadSettings', () => {
  it('has the PRODUCT.md defaults: 127.0.0.1:8080, ./data, 90 days', () => {
    const s = loadSettings({ env: {} });
    expect(s).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      retention_days: 90,
      fsync_on_commit: false,
      out_of_window_timestamps: 'keep',
    });
    expect(s.data_dir).toBe(path.resolve('./data'));
  });

  it('layers file < environment < flags', () => {
    const f = file('port: 9000\nhost: 0.0.0.0\nretention_days: 365\n');
    const s = loadSettings({
      configFile: f,
      env: { FLOWWATCH_PORT: '9100', FLOWWATCH_FSYNC_ON_COMMIT: 'true' },
      flags: { host: '::1' },
    });
    expect(s).toMatchObject({ port: 9100, host: '::1', retention_days: 365, fsync_on_commit: true });
  });

  it('reads FLOWWATCH_CONFIG when no file is given', () => {
    const f = file('settings:\n  retention_days: 400\n');
    expect(loadSettings({ env: { FLOWWATCH_CONFIG: f } }).retention_days).toBe(400);
  });

  it('names the file, line and column of a bad value', () => {
    const f = file('# flowwatch\nretention_days: 0\n');
    expect(() => loadSettings({ configFile: f, env: {} })).toThrow(
      new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:17: retention_days`),
    );
  });

  it('names the line of a YAML syntax error and refuses unknown settings', () => {
    expect(() => loadSettings({ configFile: file('port: [1,\n'), env: {} })).toThrow(ConfigError);
    expect(() => loadSettings({ configFile: file('prot: 1\n'), env: {} })).toThrow(/Unrecognized key.*prot/);
  });

  it('requires tls_cert and tls_key together, and a valid public_url', () => {
    expect(() => loadSettings({ env: {}, flags: { tls_cert: 'a.pem' } })).toThrow(/tls_cert and tls_key/);
    expect(() => loadSettings({ env: { FLOWWATCH_PUBLIC_URL: 'not a url' } })).toThrow(/public_url/);
  });

  it('reports a missing config file clearly', () => {
    expect(() => loadSettings({ configFile: '/nonexistent/flowwatch.yaml', env: {} })).toThrow(
      /cannot read config file/,
    );
  });
});
