/* global document, window, EventSource, CSS */
// Plumbline review UI: the little the server-rendered pages need from the browser.
// Filters, the plan's search, diffs loaded when opened, and live updates by server-sent events.
'use strict';

(function () {
  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  // Overview: filter the unit rows as one types (the form also works as a plain GET without this script).
  const unitRows = $('#units');
  function applyFilters() {
    if (!unitRows) return;
    const name = ($('#filter-name') || {}).value || '';
    const kind = ($('#filter-kind') || {}).value || '';
    const phase = ($('#filter-phase') || {}).value || '';
    const needle = name.trim().toLowerCase();
    let shown = 0;
    for (const row of $$('tr[data-unit]', unitRows)) {
      const match =
        (!needle || row.dataset.unit.toLowerCase().includes(needle)) && (!kind || row.dataset.kind === kind) && (!phase || row.dataset.phase === phase);
      row.classList.toggle('hidden', !match);
      if (match) shown++;
    }
    const count = $('#shown');
    if (count) count.textContent = String(shown);
  }
  for (const id of ['#filter-name', '#filter-kind', '#filter-phase']) {
    const input = $(id);
    if (input) input.addEventListener('input', applyFilters);
  }

  // Plan: search resources (or hosts and tasks) by address; groups with a match open, the others hide.
  const search = $('#search');
  if (search) {
    const items = $$('details.item[data-address]');
    const groups = $$('details.group');
    const lowered = items.map((item) => item.dataset.address.toLowerCase());
    let timer;
    search.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const needle = search.value.trim().toLowerCase();
        let matches = 0;
        items.forEach((item, i) => {
          const match = !needle || lowered[i].includes(needle);
          item.classList.toggle('hidden', !match);
          if (match) matches++;
        });
        for (const group of groups) {
          const any = $$('details.item[data-address]:not(.hidden)', group).length > 0;
          group.classList.toggle('hidden', !any);
          if (needle) group.open = any;
        }
        const count = $('#matches');
        if (count) count.textContent = needle ? `${matches} match${matches === 1 ? '' : 'es'}` : '';
      }, 80);
    });
  }

  // Diffs of large plans are fetched when their item is first opened.
  document.addEventListener(
    'toggle',
    (event) => {
      const item = event.target;
      if (!(item instanceof window.HTMLDetailsElement) || !item.open || !item.dataset.fragment || item.dataset.loaded) return;
      item.dataset.loaded = 'loading';
      const body = $('.item-body', item);
      fetch(item.dataset.fragment, { credentials: 'same-origin' })
        .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))))
        .then((text) => {
          // The fragment is the server's own escaped markup.
          body.innerHTML = text;
          item.dataset.loaded = 'yes';
        })
        .catch((error) => {
          body.textContent = `could not load this diff (${error.message}); reload the page`;
          delete item.dataset.loaded;
        });
    },
    true,
  );

  // Live: the server sends each unit whose record changed; rows are replaced, phases updated in place.
  if (document.body.dataset.live !== undefined && typeof EventSource === 'function') {
    const source = new EventSource('/ui/events');
    source.addEventListener('open', () => (document.body.dataset.liveState = 'open'));
    source.addEventListener('error', () => (document.body.dataset.liveState = 'reconnecting'));
    source.addEventListener('unit', (event) => {
      const unit = JSON.parse(event.data);
      const key = CSS.escape(unit.name);
      if (unitRows && unit.row) {
        const template = document.createElement('template');
        template.innerHTML = unit.row;
        const fresh = template.content.firstElementChild;
        const old = $(`tr[data-unit="${key}"]`, unitRows);
        if (old) old.replaceWith(fresh);
        else unitRows.appendChild(fresh);
        applyFilters();
      }
      for (const el of $$(`[data-unit-phase="${key}"]`)) {
        el.textContent = unit.phase;
        el.className = `phase phase-${unit.phase}`;
      }
      for (const el of $$(`[data-unit-reason="${key}"]`)) el.textContent = `${unit.reason}: ${unit.message}`;
    });
  }

  applyFilters();
  document.documentElement.dataset.ready = 'yes';
  // Milliseconds from the start of the navigation to a page whose handlers are all in place (the bench reads it).
  document.documentElement.dataset.readyAt = String(Math.round(window.performance.now()));
})();
