import { GiteaClient } from './gitea.ts';
import { GitHubClient } from './github.ts';
import { GitLabClient } from './gitlab.ts';
import type { ForgeClient, ForgeSettings } from './types.ts';

export function createForgeClient(settings: ForgeSettings, token: string): ForgeClient {
  switch (settings.type) {
    case 'github':
      return new GitHubClient(settings, token);
    case 'gitlab':
      return new GitLabClient(settings, token);
    case 'gitea':
      return new GiteaClient(settings, token);
  }
}
