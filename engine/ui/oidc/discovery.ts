import * as client from 'openid-client';
import type { Logger } from '../../log.ts';
import { OidcError } from './errors.ts';
import type { OidcSettings } from './types.ts';

/**
 * The provider's configuration, read from its discovery document. The daemon
 * starts without it: a provider that is down at start (or moved) delays the
 * OpenID logins only, never the daemon, its API or the token login. Until it
 * answers, discovery is retried with backoff, and each login attempt tries
 * once more at once.
 */
export interface DiscoveryOptions {
  log: Logger;
  /** In place of the global fetch for every request to the provider (a proxy, a custom CA). */
  fetch?: client.CustomFetch;
  /** The first retry waits this long, each next one twice as long, up to maxRetryMs. */
  firstRetryMs?: number;
  maxRetryMs?: number;
}

/** A provider that does not answer within this is unreachable for this attempt. */
const DISCOVERY_TIMEOUT_SECONDS = 10;

export class IssuerDiscovery {
  #config: client.Configuration | undefined;
  #attempt: Promise<client.Configuration> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #closed = false;

  constructor(
    private readonly settings: Pick<OidcSettings, 'issuer' | 'clientId'>,
    private readonly clientSecret: string,
    private readonly options: DiscoveryOptions,
  ) {}

  /** Starts the first attempt; retries go on in the background until one succeeds or close(). */
  start(): void {
    this.discover().catch(() => undefined);
  }

  /** The configuration, discovering it now if it is not known yet; E_OIDC_ISSUER_UNREACHABLE if that fails. */
  async configuration(): Promise<client.Configuration> {
    return this.#config ?? this.discover();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  private discover(): Promise<client.Configuration> {
    this.#attempt ??= this.fetchConfiguration().finally(() => (this.#attempt = undefined));
    return this.#attempt;
  }

  private async fetchConfiguration(): Promise<client.Configuration> {
    const { log } = this.options;
    const issuer = new URL(this.settings.issuer);
    try {
      // The client authenticates with HTTP Basic: the method every provider supports (OpenID Connect Core, section 9).
      const config = await client.discovery(issuer, this.settings.clientId, undefined, client.ClientSecretBasic(this.clientSecret), {
        timeout: DISCOVERY_TIMEOUT_SECONDS,
        // The config accepts http:// only on loopback (a provider on the daemon's own host).
        ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
        ...(this.options.fetch ? { [client.customFetch]: this.options.fetch } : {}),
      });
      this.#config = config;
      clearTimeout(this.#timer);
      log.info({ issuer: this.settings.issuer, attempts: this.#failures + 1 }, 'OpenID provider discovered: OpenID Connect logins are open');
      return config;
    } catch (error) {
      this.#failures += 1;
      const unreachable = new OidcError('E_OIDC_ISSUER_UNREACHABLE', `the OpenID provider ${this.settings.issuer} cannot be reached: ${describe(error)}`, {
        hint: 'logins with a token still work; check auth.oidc.issuer and that this host reaches the provider (Plumbline keeps trying)',
        cause: error,
        retry: 'waiting',
      });
      const fields = { code: unreachable.code, issuer: this.settings.issuer, failures: this.#failures, reason: describe(error) };
      if (this.#failures === 1) log.warn(fields, 'OpenID provider unreachable: OpenID Connect logins wait for it, token logins work');
      else log.debug(fields, 'OpenID provider still unreachable');
      this.scheduleRetry();
      throw unreachable;
    }
  }

  private scheduleRetry(): void {
    if (this.#closed || this.#config) return;
    const first = this.options.firstRetryMs ?? 1_000;
    const delay = Math.min(first * 2 ** (this.#failures - 1), this.options.maxRetryMs ?? 60_000);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.start(), delay);
    // A retry must not keep a stopping daemon alive.
    this.#timer.unref();
  }
}

/** A fetch failure says "fetch failed" and hides why in its cause: the refused connection is what helps. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return cause ? `${message} (${code ?? cause.message})` : message;
}
