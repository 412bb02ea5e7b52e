// What the store keeps of the recipients Datadog's integration APIs define (PagerDuty services, Slack
// channels, Opsgenie services, Microsoft Teams Workflows webhook handles). The configuration file defines the
// same kinds of recipients; notify/integrations.ts merges the two. integration-conformance.ts is the suite
// each implementation passes.

/** The integrations whose recipients the API defines. */
export type IntegrationKind = 'pagerduty' | 'slack' | 'opsgenie' | 'teams';

/** One recipient defined through an integration API. */
export interface IntegrationRecord {
  kind: IntegrationKind;
  /** the API's id: a UUID (Opsgenie and Teams address them by it; PagerDuty and Slack by name) */
  id: string;
  /** the Slack account a channel belongs to; '' for the other kinds */
  scope: string;
  /** unique per kind and scope, case-insensitively: the handle's name (`#ops` for a Slack channel) */
  name: string;
  /** the credential (routing key, API key, webhook URL); never returned by the API, never logged */
  secret: string | null;
  /** the non-secret fields (Slack's display options, Opsgenie's region and custom_url) */
  attributes: Record<string, unknown>;
  created_at: number;
  modified_at: number;
}

/** Storage of integration-defined recipients. */
export interface IntegrationStore {
  /** Every recipient of a kind, by scope then name (case-insensitively). */
  listIntegrations(kind: IntegrationKind): Promise<IntegrationRecord[]>;
  getIntegration(kind: IntegrationKind, id: string): Promise<IntegrationRecord | undefined>;
  /** By scope and name, case-insensitively. */
  findIntegration(kind: IntegrationKind, scope: string, name: string): Promise<IntegrationRecord | undefined>;
  /** Adds one; false when the id, or the name within the kind and scope, is taken. */
  insertIntegration(r: IntegrationRecord): Promise<boolean>;
  /** Replaces the record with this id (its name may change): 'missing', or 'conflict' when the name is taken. */
  replaceIntegration(r: IntegrationRecord): Promise<'ok' | 'missing' | 'conflict'>;
  deleteIntegration(kind: IntegrationKind, id: string): Promise<boolean>;
}
