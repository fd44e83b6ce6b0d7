import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findMitogenLimit, findRawTask, findTemplatedConnection, templatedConnectionVar } from './mitogen-limits.ts';

const found = (text: string, file = '/tree/inventories/web/hosts.yml') => findTemplatedConnection([{ file, text }]);

test('a templated address, port, user, key, password or ssh argument is found with its file and line', () => {
  const yaml = `all:\n  hosts:\n    web1:\n      ansible_host: 10.0.0.1\n    web2:\n      ansible_host: "{{ addresses.web2 }}"\n`;
  assert.deepEqual(found(yaml), { file: '/tree/inventories/web/hosts.yml', line: 6, variable: 'ansible_host' });
  for (const variable of ['ansible_port', 'ansible_ssh_port', 'ansible_user', 'ansible_ssh_private_key_file', 'ansible_password', 'ansible_ssh_common_args', 'ansible_become_password', 'ansible_connection']) {
    assert.equal(found(`${variable}: "{{ x }}"\n`)?.variable, variable);
  }
  // JSON inventories and vars files.
  assert.equal(found('{"web1": {"ansible_port": "{{ 2222 }}"}}')?.variable, 'ansible_port');
});

test('INI inventories: only the value of the connection variable counts', () => {
  assert.equal(found('[web]\nweb1 ansible_host={{ lookup("env", "WEB1") }} ansible_port=22\n')?.line, 2);
  assert.equal(found('[web]\nweb1 ansible_host=10.0.0.1 motd="{{ greeting }}"\n'), null);
  assert.equal(found('[web:vars]\nansible_user={{ deploy_user }}\n')?.variable, 'ansible_user');
});

test('a YAML block value below its key counts; the next key does not', () => {
  assert.equal(found('ansible_ssh_common_args: >-\n  -o ProxyJump={{ bastion }}\nother: 1\n')?.line, 1);
  assert.equal(found('ansible_host:\n  "{{ addr }}"\n')?.line, 1);
  assert.equal(found('ansible_become: true\nmotd: "{{ greeting }}"\n'), null);
});

test('literal connection variables, templates elsewhere and look-alike names are left alone', () => {
  assert.equal(found('ansible_host: 10.0.0.1\nansible_port: 22\nmotd: "{{ greeting }}"\n'), null);
  assert.equal(found('my_ansible_host: "{{ x }}"\nhost_ansible_port_note: "{{ y }}"\n'), null);
  assert.equal(found('ansible_hostname_alias: "{{ x }}"\n'), null);
  assert.equal(found('- debug:\n    msg: "{{ ansible_host }}"\n'), null);
  assert.equal(findTemplatedConnection([]), null);
});

test('extra variables: a connection variable whose value is a template', () => {
  assert.equal(templatedConnectionVar({ ansible_user: '{{ who }}', listen_port: 8080 }), 'ansible_user');
  assert.equal(templatedConnectionVar({ ansible_user: 'deploy', motd: '{{ greeting }}' }), null);
});

test('a task of the raw module is found, however it is named; other uses of the word are not', () => {
  const raw = (text: string) => findRawTask([{ file: '/tree/site.yml', text }]);
  assert.deepEqual(raw('- hosts: switches\n  gather_facts: false\n  tasks:\n    - raw: show version\n'), { reason: 'raw-module', file: '/tree/site.yml', line: 4, name: 'raw' });
  assert.equal(raw('    - name: bootstrap\n      ansible.builtin.raw: apt-get install -y python3\n')?.line, 2);
  assert.equal(raw('  - ansible.legacy.raw: uptime\n')?.name, 'ansible.legacy.raw');
  assert.equal(raw('    - ansible.builtin.command: echo raw\n    - debug:\n        msg: "{{ raw_output }}"\n    - rawfile: x\n'), null);
});

test('the first limit found: templated connection variables, then the manifest\'s vars, then a raw task', () => {
  const texts = [{ file: '/tree/hosts.yml', text: 'ansible_user: "{{ who }}"\n' }, { file: '/tree/site.yml', text: '- raw: uptime\n' }];
  assert.equal(findMitogenLimit(texts, {})?.reason, 'templated-connection');
  assert.deepEqual(findMitogenLimit([texts[1]!], { ansible_port: '{{ p }}' }), { reason: 'templated-connection', name: 'ansible_port' });
  assert.equal(findMitogenLimit([texts[1]!], {})?.reason, 'raw-module');
  assert.equal(findMitogenLimit([], {}), null);
});
