// What the simulated Okta org is made of: flow names, folders, connectors, users and realistic errors.
import type { Rng } from './sim-random.ts';

// "name|folder path|connector" for each kind of flow; names repeat with a suffix when more are needed.
export const SCHEDULED = [
  'Sync Workday Users|Lifecycle|Workday',
  'Disable Inactive Accounts|Security|Okta',
  'Nightly Group Membership Report|Reporting|Okta',
  'Reclaim Unused Microsoft 365 Licenses|Offboarding|Office 365',
  'Sync BambooHR Contractors|Lifecycle/Contractors|BambooHR',
  'Export Admin Roles to Google Sheets|Reporting|Google Sheets',
  'Expire Temporary Access Grants|Access Requests|Okta',
  'Rotate Service Account Passwords|Security|Okta',
];
export const EVENT_DRIVEN = [
  'Deprovision Terminated Users|Offboarding|Okta',
  'Onboard New Hire|Onboarding|Okta',
  'Provision Slack Account|Onboarding|Slack',
  'Handle Access Request|Access Requests|ServiceNow',
  'Notify Manager on Role Change|Lifecycle|Slack',
  'Reset MFA on Help Desk Request|Security|Okta',
  'Assign Google Workspace License|Onboarding|Google Workspace',
  'Transfer Drive Ownership on Offboard|Offboarding|Google Workspace',
  'Open Jira Ticket on Suspicious Login|Security|Jira',
  'Update Salesforce Profile|Lifecycle|Salesforce',
  'Bulk Import Contractors|Lifecycle/Contractors|Okta',
  'Add User to Zoom|Onboarding|Zoom',
];
export const HELPERS = [
  'Helper - Lookup Manager|Helpers|Okta',
  'Helper - Send Slack Message|Helpers/Notifications|Slack',
  'Helper - Process Workday Worker|Helpers|Workday',
  'Helper - Create ServiceNow Ticket|Helpers|ServiceNow',
  'Helper - Write Audit Row|Helpers|Okta',
  'Helper - Send Email Notification|Helpers/Notifications|Office 365',
  'Helper - Remove App Assignments|Helpers|Okta',
];
export const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'wayne', 'cyberdyne', 'tyrell'];
export const FIRST = ['jessie', 'sam', 'alex', 'maria', 'wei', 'priya', 'omar', 'lena', 'diego', 'aiko'];
export const LAST = ['doe', 'smith', 'garcia', 'chen', 'patel', 'haddad', 'novak', 'kim'];
export const ADDRESS = 'root:kernel:object:0.0.1:construct';

/** The kinds of flow. */
export type Kind = 'scheduled' | 'event' | 'helper';
// Typical median duration (ms) and step count ranges per kind of flow.
export const KINDS: Record<Kind, { names: string[]; ms: [number, number]; steps: [number, number] }> = {
  scheduled: { names: SCHEDULED, ms: [2000, 30000], steps: [10, 80] },
  event: { names: EVENT_DRIVEN, ms: [300, 5000], steps: [4, 30] },
  helper: { names: HELPERS, ms: [100, 2000], steps: [2, 15] },
};

/** A realistic error for a failed execution calling `app`. */
export function errorsFor(app: string, rng: Rng): [string, string] {
  const r = rng.float();
  if (r < 0.3) return ['HTTPError', `${app}: 503 Service Unavailable`];
  if (r < 0.55) return ['HTTPError', 'Okta: 429 Too Many Requests'];
  if (r < 0.62) return ['HTTPError', `${app}: 401 Unauthorized`];
  if (r < 0.7) return ['HTTPError', `${app}: 404 Not Found`];
  if (r < 0.77) return ['HTTPError', `${app}: 500 Internal Server Error`];
  if (r < 0.88) return ['TimeoutError', `${app}: request timed out after 60000 ms`];
  return [
    'ValidationError',
    rng.pick(['Missing required field: email', 'Invalid value for managerId: expected text']),
  ];
}
