import { issueForgeRoutes } from './github.ts';
import { literal, type ForgeDialect } from './stand-in.ts';

/** Gitea and Forgejo, /api/v1 (their swagger): the endpoints Plumbline calls. */
export const gitea: ForgeDialect = {
  type: 'gitea',
  baseUrl: (origin) => origin,
  checkHeaders(req, token) {
    if (req.headers.authorization !== `token ${token}`) return 'Authorization must be "token <token>"';
    return undefined;
  },
  routes: (forge) =>
    issueForgeRoutes(forge, `/api/v1/repos/${literal(forge.repository)}`, {
      pullQuery: ['state', 'sort', 'milestone', 'labels', 'poster', 'page', 'limit'],
      commentQuery: ['since', 'before'],
      states: ['pending', 'success', 'error', 'failure', 'warning'],
    }),
};
