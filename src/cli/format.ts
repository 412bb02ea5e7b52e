// How the CLI prints a log: one readable line, or NDJSON with --json.

/** A log as the search API returns it. */
export interface ApiLog {
  id: string;
  attributes: {
    timestamp: string;
    status: string;
    service?: string;
    host?: string;
    message: string;
    tags: string[];
    attributes: Record<string, unknown>;
  };
}

/** `2026-11-27T03:02:11.120Z ERROR  okta  Flow failed: …` */
export function formatLog(l: ApiLog): string {
  const a = l.attributes;
  const msg = a.message || JSON.stringify(a.attributes);
  return `${a.timestamp}  ${a.status.toUpperCase().padEnd(8)} ${(a.service ?? '-').padEnd(12)} ${msg}`;
}
