import { type ErrorCode, PlumblineError } from '../errors.ts';

/** An answer that is not an engine error: bad input, routing, a body too large. */
export class HttpError extends PlumblineError {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, code: ErrorCode, message: string, hint?: string, headers: Record<string, string> = {}) {
    super(code, message, hint === undefined ? {} : { hint });
    this.status = status;
    this.headers = headers;
  }
}

/** What a route answers when it is not JSON with 200: another status, or text (the metrics). */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    /** Set for a text answer (`body` is then the text). */
    readonly contentType?: string,
  ) {}
}

export function badRequest(message: string, hint?: string): HttpError {
  return new HttpError(400, 'E_BAD_REQUEST', message, hint);
}
