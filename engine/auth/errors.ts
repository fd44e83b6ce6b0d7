import { PlumblineError, type PlumblineErrorOptions } from '../errors.ts';

/** No token, or one that is unknown, expired or revoked: HTTP 401. */
export class UnauthorizedError extends PlumblineError {
  constructor(message: string, options: PlumblineErrorOptions = {}) {
    super('E_UNAUTHORIZED', message, options);
  }
}

/** A valid token whose role or units do not cover the request: HTTP 403. */
export class ForbiddenError extends PlumblineError {
  constructor(message: string, options: PlumblineErrorOptions = {}) {
    super('E_FORBIDDEN', message, options);
  }
}

/** A request the API cannot take as it is (a bad token name, an unknown role): HTTP 400. */
export class BadRequestError extends PlumblineError {
  constructor(message: string, options: PlumblineErrorOptions = {}) {
    super('E_BAD_REQUEST', message, options);
  }
}
