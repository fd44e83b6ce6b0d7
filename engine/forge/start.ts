import type { IncomingMessage } from 'node:http';
import type { Reply } from '../api/http.ts';
import type { Logger } from '../log.ts';
import { createForgeClient } from './client.ts';
import { ForgeReporter } from './reporter.ts';
import { readForgeSecrets } from './settings.ts';
import type { ForgeSettings } from './types.ts';
import { createGitHook } from './webhook.ts';

export interface ForgeReporting {
  reporter: ForgeReporter;
  /** `POST /hooks/git`; undefined without forge.webhookSecretFile (the route answers 404). */
  gitHook: ((req: IncomingMessage) => Promise<Reply>) | undefined;
}

/** The forge section at start: secrets read (a bad file stops the start), the client, the reporter and the webhook route. */
export async function startForgeReporting(
  settings: ForgeSettings,
  deps: { log: Logger; uiBase: () => string | undefined; planPurpose: (planId: string) => Promise<string | undefined>; pollNow: () => void },
): Promise<ForgeReporting> {
  const { token, webhookSecret } = await readForgeSecrets(settings);
  const log = deps.log.child({ component: 'forge' });
  const reporter = new ForgeReporter({ client: createForgeClient(settings, token), log, uiBase: deps.uiBase, planPurpose: deps.planPurpose });
  const gitHook = webhookSecret ? createGitHook({ type: settings.type, secret: webhookSecret, trigger: deps.pollNow, log }) : undefined;
  log.info({ type: settings.type, repository: settings.repository, webhooks: gitHook !== undefined }, 'forge reporting on');
  return { reporter, gitHook };
}
