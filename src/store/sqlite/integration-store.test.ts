import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { integrationStoreConformance } from '../integration-conformance.ts';
import { SqliteStore } from './sqlite-store.ts';

integrationStoreConformance(
  'sqlite',
  async () => new SqliteStore({ dataDir: mkdtempSync(path.join(tmpdir(), 'fw-integrations-')) }),
);
