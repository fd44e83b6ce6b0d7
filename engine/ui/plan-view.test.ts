import assert from 'node:assert/strict';
import { test } from 'node:test';
import { destroyedBy, findItem, planView } from './plan-view.ts';

const terraform = {
  resources: [
    {
      address: 'aws_instance.web',
      action: 'replace',
      attributes: [
        { path: 'ami', before: 'ami-1', after: 'ami-2', forcesReplacement: true },
        { path: 'tags.Name', after: '<web>' },
        { path: 'id', before: 'i-1', unknown: true },
        { path: 'user_data', before: '(sensitive)', after: '(sensitive)', sensitive: true },
      ],
    },
    { address: 'module.net.aws_subnet.a', module: 'module.net', action: 'create', attributes: [] },
  ],
  outputs: [{ name: 'ip', action: 'update', attributes: [{ path: 'ip', before: '10.0.0.1', unknown: true }] }],
  warnings: ['Warning: deprecated'],
};

test('Terraform: resources grouped by module, then the outputs; each diff shows only what changed, at its path', () => {
  const view = planView(terraform);
  assert.equal(view.kind, 'resources');
  assert.deepEqual(view.groups.map((g) => [g.title, g.summary]), [
    ['root module', '1: 1 to replace'],
    ['module.net', '1: 1 to create'],
    ['Outputs', '1: 1 to update'],
  ]);
  assert.deepEqual(view.warnings, ['Warning: deprecated']);
  const body = findItem(view, 'r0')!.body().text;
  assert.match(body, /<td>~<\/td><td class="path">ami<\/td><td><span class="before">&quot;ami-1&quot;<\/span><\/td><td><span class="after">&quot;ami-2&quot;<\/span> <span class="forces"># forces replacement<\/span>/);
  assert.match(body, /<td>\+<\/td><td class="path">tags.Name<\/td><td><\/td><td><span class="after">&quot;&lt;web&gt;&quot;<\/span>/, 'added, and escaped');
  assert.match(body, /id<\/td><td><span class="before">&quot;i-1&quot;<\/span><\/td><td><span class="after">\(known after apply\)/);
  assert.match(body, /user_data.*\(sensitive\)/);
  assert.deepEqual(destroyedBy(view), ['aws_instance.web']);
  assert.equal(findItem(view, 'r9'), undefined);
});

test('Ansible: tasks by host, the destructive ones named, diffs marked; unreachable hosts warned of; other documents are text', () => {
  const view = planView({
    kind: 'ansible',
    hosts: [
      {
        name: 'web-1',
        state: 'changed',
        tasks: [
          { play: 'web', task: 'write index', path: 'site.yml:4', action: 'copy', status: 'changed', destructive: false, noLog: false, diff: '--- before\n+++ after\n-old\n+new' },
          { play: 'web', task: 'remove old site', path: 'site.yml:9', action: 'file', status: 'changed', destructive: true, noLog: false },
        ],
      },
    ],
    uncertain: [{ play: 'web', task: 'reload', path: 'site.yml:12', action: 'command', hosts: ['web-1'], noLog: false }],
    unreachable: ['web-2'],
  });
  assert.equal(view.kind, 'tasks');
  assert.deepEqual(view.groups.map((g) => g.title), ['web-1', 'Tasks check mode cannot predict']);
  assert.deepEqual(destroyedBy(view), ['web-1 => remove old site']);
  assert.match(findItem(view, 'h0-t0')!.body().text, /<span class="del">-old<\/span><span class="add">\+new<\/span>/);
  assert.deepEqual(view.warnings, ['unreachable host(s), not planned: web-2']);
  assert.equal(planView(null).kind, 'text');
  assert.equal(planView({ something: 'else' }).kind, 'text');
});
