// ELS test data: the fixtures, dated now, wrapped in Okta's Datadog body template.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const FIX = path.resolve(import.meta.dirname, '../fixtures/els');

/** An ELS fixture event with its timestamp set to now (or `at`) and optional overrides. */
export function elsEvent(
  name: string,
  over: Record<string, unknown> = {},
  at = Date.now(),
): Record<string, unknown> {
  const ev = JSON.parse(readFileSync(path.join(FIX, `${name}.json`), 'utf8')) as Record<string, unknown>;
  return { ...ev, timestamp: new Date(at).toISOString(), ...over };
}

/** The body Okta posts with the Datadog template: the event as an escaped JSON string in `message`. */
export function oktaBody(event: Record<string, unknown>): string {
  const template = JSON.parse(readFileSync(path.join(FIX, 'okta_datadog_body.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  return JSON.stringify({ ...template, message: JSON.stringify(event) });
}
