import { z } from 'zod';
import { literal, pageOf, type ForgeDialect } from './stand-in.ts';

/** GitLab REST API v4 (docs.gitlab.com/api): commit statuses, merge requests and their notes. */
export const gitlab: ForgeDialect = {
  type: 'gitlab',
  baseUrl: (origin) => origin,
  checkHeaders(req, token) {
    if (req.headers['private-token'] !== token) return 'PRIVATE-TOKEN must hold the token';
    return undefined;
  },
  routes(forge) {
    const project = `/api/v4/projects/${literal(encodeURIComponent(forge.repository))}`;
    const note = z.strictObject({ body: z.string().min(1).max(1_000_000) });
    return [
      {
        method: 'POST',
        path: new RegExp(`^${project}/statuses/([0-9a-f]{40})$`),
        body: z.strictObject({
          state: z.enum(['pending', 'running', 'success', 'failed', 'canceled', 'skipped']),
          ref: z.string().optional(),
          name: z.string().min(1).optional(),
          context: z.string().min(1).optional(),
          target_url: z.url().optional(),
          description: z.string().max(255).optional(),
          coverage: z.number().optional(),
          pipeline_id: z.number().optional(),
        }),
        handle([, sha], body) {
          const b = body as { state: string; name?: string; context?: string; target_url?: string; description?: string };
          const name = b.name ?? b.context ?? 'default';
          forge.statuses.push({ sha: sha!, context: name, state: b.state, description: b.description ?? '', ...(b.target_url ? { targetUrl: b.target_url } : {}) });
          return { status: 201, json: { id: forge.newId(), sha, status: b.state, name, description: b.description ?? null, target_url: b.target_url ?? null } };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`^${project}/merge_requests$`),
        query: ['state', 'source_branch', 'target_branch', 'order_by', 'sort', 'per_page', 'page'],
        handle(_m, _b, query) {
          const state = query.get('state');
          const source = query.get('source_branch');
          const list = [...forge.mergeRequests]
            .filter(([, branch]) => (state === null || state === 'opened' || state === 'all') && (source === null || source === branch))
            .map(([iid, branch]) => ({ id: iid + 5000, iid, state: 'opened', source_branch: branch, target_branch: 'main' }));
          return { status: 200, json: pageOf(list, query, 'per_page', 20) };
        },
      },
      {
        method: 'GET',
        path: new RegExp(`^${project}/merge_requests/(\\d+)/notes$`),
        query: ['sort', 'order_by', 'per_page', 'page'],
        handle([, iid], _b, query) {
          if (!forge.mergeRequests.has(Number(iid))) return { status: 404, json: { message: '404 Not found' } };
          const notes = forge.commentsOn(Number(iid)).map((n) => ({ ...n, system: false }));
          return { status: 200, json: pageOf(notes, query, 'per_page', 20) };
        },
      },
      {
        method: 'POST',
        path: new RegExp(`^${project}/merge_requests/(\\d+)/notes$`),
        body: note,
        handle([, iid], body) {
          if (!forge.mergeRequests.has(Number(iid))) return { status: 404, json: { message: '404 Not found' } };
          const created = { id: forge.newId(), body: (body as { body: string }).body };
          forge.commentsOn(Number(iid)).push(created);
          return { status: 201, json: { ...created, system: false } };
        },
      },
      {
        method: 'PUT',
        path: new RegExp(`^${project}/merge_requests/(\\d+)/notes/(\\d+)$`),
        body: note,
        handle([, iid, id], body) {
          const found = forge.commentsOn(Number(iid)).find((n) => n.id === Number(id));
          if (!found) return { status: 404, json: { message: '404 Not found' } };
          found.body = (body as { body: string }).body;
          return { status: 200, json: { ...found, system: false } };
        },
      },
    ];
  },
};
