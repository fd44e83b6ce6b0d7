import type { Command } from 'commander';
import { resolveClient, type ApiClient } from '../api/client.ts';

/** How the commands that talk to a running daemon find it and its token. */

export interface ConnectionOptions {
  config?: string;
  server?: string;
  token?: string;
  json?: boolean;
}

export function withConnection(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON')
    .option('--config <file>', 'the daemon config (plumbline.yaml): API address and token file')
    .option('--server <url>', 'daemon API URL, e.g. http://127.0.0.1:7777 (env PLUMBLINE_SERVER)')
    .option('--token <token>', 'API token (env PLUMBLINE_TOKEN)');
}

export function connect(opts: ConnectionOptions): Promise<ApiClient> {
  const resolved: { config?: string; server?: string; token?: string } = {};
  if (opts.config !== undefined) resolved.config = opts.config;
  if (opts.server !== undefined) resolved.server = opts.server;
  if (opts.token !== undefined) resolved.token = opts.token;
  return resolveClient(resolved);
}
