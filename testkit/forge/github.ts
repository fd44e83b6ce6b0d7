import { z } from 'zod';
import { literal, pageOf, type ForgeDialect, type ForgeStandIn, type Route } from './stand-in.ts';

/** GitHub REST API 2022-11-28: the endpoints of docs.github.com/rest that Plumbline calls. */
export const github: ForgeDialect = {
  type: 'github',
  baseUrl: (origin) => origin,
  checkHeaders(req, token) {
    if (req.headers.authorization !== `Bearer ${token}`) return 'Authorization must be "Bearer <token>"';
    if (req.headers.accept !== 'application/vnd.github+json') return 'Accept must be application/vnd.github+json';
    if (req.headers['x-github-api-version'] !== '2022-11-28') return 'X-GitHub-Api-Version must name a supported version';
    return undefined;
  },
  routes: (forge) => issueForgeRoutes(forge, `/repos/${literal(forge.repository)}`, { pullQuery: ['state', 'head', 'base', 'sort', 'direction', 'per_page', 'page'], commentQuery: ['since', 'per_page', 'page'], states: ['error', 'failure', 'pending', 'success'] }),
};

/** GitHub and Gitea share these shapes (Gitea's API follows GitHub's); the dialects differ in headers, paths and queries. */
export function issueForgeRoutes(forge: ForgeStandIn, repo: string, options: { pullQuery: string[]; commentQuery: string[]; states: string[] }): Route[] {
  const comment = z.strictObject({ body: z.string().min(1).max(65_536) });
  const owner = forge.repository.split('/')[0]!;
  return [
    {
      method: 'POST',
      path: new RegExp(`^${repo}/statuses/([0-9a-f]{40})$`),
      body: z.strictObject({ state: z.enum(options.states), target_url: z.url().optional(), description: z.string().max(140).optional(), context: z.string().min(1).optional() }),
      handle([, sha], body) {
        const b = body as { state: string; target_url?: string; description?: string; context?: string };
        forge.statuses.push({ sha: sha!, context: b.context ?? 'default', state: b.state, description: b.description ?? '', ...(b.target_url ? { targetUrl: b.target_url } : {}) });
        return { status: 201, json: { id: forge.newId(), state: b.state, context: b.context ?? 'default', description: b.description ?? null, target_url: b.target_url ?? null } };
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${repo}/pulls$`),
      query: options.pullQuery,
      handle(_m, _b, query) {
        if (query.get('state') !== 'open') return { status: 200, json: [] };
        const head = query.get('head');
        const open = [...forge.mergeRequests].filter(([, branch]) => head === null || head === `${owner}:${branch}`);
        const list = open.map(([number, branch]) => ({ number, state: 'open', head: { ref: branch, sha: '0'.repeat(40), repo: { full_name: forge.repository } } }));
        return { status: 200, json: pageOf(list, query, query.has('limit') ? 'limit' : 'per_page', 30) };
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^${repo}/issues/(\\d+)/comments$`),
      query: options.commentQuery,
      handle([, n], _b, query) {
        if (!forge.mergeRequests.has(Number(n))) return { status: 404, json: { message: 'Not Found' } };
        return { status: 200, json: pageOf(forge.commentsOn(Number(n)), query, 'per_page', options.commentQuery.includes('per_page') ? 30 : 1_000_000) };
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^${repo}/issues/(\\d+)/comments$`),
      body: comment,
      handle([, n], body) {
        if (!forge.mergeRequests.has(Number(n))) return { status: 404, json: { message: 'Not Found' } };
        const created = { id: forge.newId(), body: (body as { body: string }).body };
        forge.commentsOn(Number(n)).push(created);
        return { status: 201, json: created };
      },
    },
    {
      method: 'PATCH',
      path: new RegExp(`^${repo}/issues/comments/(\\d+)$`),
      body: comment,
      handle([, id], body) {
        for (const list of forge.comments.values()) {
          const found = list.find((c) => c.id === Number(id));
          if (found) {
            found.body = (body as { body: string }).body;
            return { status: 200, json: found };
          }
        }
        return { status: 404, json: { message: 'Not Found' } };
      },
    },
  ];
}
