// SQLite side of the integration store (table `integrations`, migration 13), on the main connection.
import type Database from 'better-sqlite3';
import type { IntegrationKind, IntegrationRecord, IntegrationStore } from '../integrations.ts';

type Row = Omit<IntegrationRecord, 'attributes'> & { attributes: string };

function toRecord(r: Row): IntegrationRecord {
  return { ...r, attributes: JSON.parse(r.attributes) as Record<string, unknown> };
}

const COLUMNS = 'kind, id, scope, name, secret, attributes, created_at, modified_at';

/** Integration-defined recipients in the Flowwatch database. */
export class SqliteIntegrationStore implements IntegrationStore {
  constructor(private readonly db: Database.Database) {}

  async listIntegrations(kind: IntegrationKind): Promise<IntegrationRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM integrations WHERE kind = ? ORDER BY scope, name`)
      .all(kind) as Row[];
    return rows.map(toRecord);
  }

  async getIntegration(kind: IntegrationKind, id: string): Promise<IntegrationRecord | undefined> {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM integrations WHERE kind = ? AND id = ?`).get(kind, id);
    return r ? toRecord(r as Row) : undefined;
  }

  async findIntegration(
    kind: IntegrationKind,
    scope: string,
    name: string,
  ): Promise<IntegrationRecord | undefined> {
    const r = this.db
      .prepare(`SELECT ${COLUMNS} FROM integrations WHERE kind = ? AND scope = ? AND name = ?`)
      .get(kind, scope, name);
    return r ? toRecord(r as Row) : undefined;
  }

  async insertIntegration(r: IntegrationRecord): Promise<boolean> {
    const res = this.db
      .prepare(
        `INSERT INTO integrations (${COLUMNS})
         VALUES (@kind, @id, @scope, @name, @secret, @attributes, @created_at, @modified_at)
         ON CONFLICT DO NOTHING`,
      )
      .run({ ...r, attributes: JSON.stringify(r.attributes) });
    return res.changes > 0;
  }

  async replaceIntegration(r: IntegrationRecord): Promise<'ok' | 'missing' | 'conflict'> {
    return this.db.transaction((): 'ok' | 'missing' | 'conflict' => {
      if (!this.db.prepare('SELECT 1 FROM integrations WHERE kind = ? AND id = ?').get(r.kind, r.id))
        return 'missing';
      const clash = this.db
        .prepare('SELECT 1 FROM integrations WHERE kind = ? AND scope = ? AND name = ? AND id <> ?')
        .get(r.kind, r.scope, r.name, r.id);
      if (clash) return 'conflict';
      this.db
        .prepare(
          `UPDATE integrations SET scope = @scope, name = @name, secret = @secret, attributes = @attributes,
             modified_at = @modified_at WHERE kind = @kind AND id = @id`,
        )
        .run({ ...r, attributes: JSON.stringify(r.attributes) });
      return 'ok';
    })();
  }

  async deleteIntegration(kind: IntegrationKind, id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM integrations WHERE kind = ? AND id = ?').run(kind, id).changes > 0;
  }
}
