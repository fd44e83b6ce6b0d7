import assert from 'node:assert/strict';
import { test } from 'node:test';
import { html, query, raw } from './html.ts';

test('interpolated values are escaped; Html, arrays and absent values compose', () => {
  const name = `<script>alert("x")</script>&'`;
  assert.equal(html`<td title="${name}">${name}</td>`.text, '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>');
  assert.equal(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.text, '<ul><li>a&lt;</li><li>b</li></ul>');
  assert.equal(html`${raw('<b>')}${null}${undefined}${false}${0}`.text, '<b>0');
  assert.equal(query({ name: 'prod/vpc', kind: '', before: 3 }), '?name=prod%2Fvpc&before=3');
  assert.equal(query({}), '');
});
