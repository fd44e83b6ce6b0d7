import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider (the `oidc-provider` package) on a loopback address,
 * for logging in through the UI in a browser. Its development login page
 * takes any name with any password; each user's groups come from `users`.
 * It listens on 127.0.0.3 unless told otherwise: another site than the daemon
 * on 127.0.0.1, so the callback is a cross-site navigation, as in real life.
 */
export interface TestOidcUser {
  name: string;
  groups: string[];
}

export interface TestOidcProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  users: TestOidcUser[];
  address?: string;
  /** A port chosen beforehand (a provider started after the daemon that was told of it). */
  port?: number;
}

export class TestOidcProvider {
  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  static async start(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
    const address = options.address ?? '127.0.0.3';
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, address, () => resolve());
    });
    const issuer = `http://${address}:${(server.address() as AddressInfo).port}`;
    const users = new Map(options.users.map((u) => [u.name, u]));
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: options.clientId,
          client_secret: options.clientSecret,
          redirect_uris: [options.redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      // Logins without PKCE are refused: the client must send it.
      pkce: { required: () => true },
      claims: { openid: ['sub'], profile: ['name', 'preferred_username'], groups: ['groups'] },
      findAccount: (_ctx, id) => ({
        accountId: id,
        claims: () => ({ sub: `sub-${id}`, preferred_username: id, name: id, groups: users.get(id)?.groups ?? [] }),
      }),
      cookies: { keys: ['plumbline-test-provider-cookie-key'] },
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
      features: { devInteractions: { enabled: true } },
    });
    server.on('request', provider.callback());
    return new TestOidcProvider(server, issuer);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
