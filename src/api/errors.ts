// One error type for every HTTP boundary: a status plus a Datadog-shaped body.

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

/** Title for a status code, as Datadog words it. */
export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

/** An error answered to the client with its status and a precise detail; `retryAfterS` adds Retry-After. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly retryAfterS?: number,
    /** several problems at once (validation): the API lists each */
    readonly problems?: string[],
  ) {
    super(detail);
  }
}

/** Datadog's error body `{"errors":[{"status","title","detail"}]}`. */
export function datadogErrorBody(status: number, detail: string) {
  return { errors: [{ status: String(status), title: statusTitle(status), detail }] };
}
