import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { notificationStoreConformance } from '../notification-conformance.ts';
import { SqliteStore } from './sqlite-store.ts';

notificationStoreConformance(
  'sqlite',
  async () => new SqliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'fw-notify-store-')) }),
);
