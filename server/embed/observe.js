/* ZecCloud Consent: the passive report of undeclared identifiers (issue 31), a module the embed
   loader imports on a sampled page view once the visitor's choice applies (cross-origin, so
   fetched without the visitor's cookies). Served as /embed/observe.js with __CONFIG__ filled
   in: {categories (the optional ones), declared (per kind, the names and `prefix*` patterns the
   still-valid versions' registries list)}. A moment later (scripts the choice let run may set
   theirs) it sends the names, never the values, of the cookies and storage keys the page
   holds that none of them declares, with the choice in force, and again no cookie: the report
   is anonymous. Apart from the loader, so that the page views that do not report (most) do not
   download it. Minified at build time (server/build.rs). */
const C = __CONFIG__, d = document, z = window.zcConsent, names = [],
  declared = (kind, name) => (C.declared[kind] || []).some(p =>
    p.endsWith(__STORAGE_WILDCARD__) ? name.startsWith(p.slice(0, -__STORAGE_WILDCARD__.length)) : name == p),
  // Only names the registry could list (cookie-name tokens): anything else is no name.
  add = (kind, keys) => keys.forEach(name =>
    /^[\w!#$%&'+.^`|~-]{1,128}$/.test(name) && !declared(kind, name) && names.push({ kind, name }));

setTimeout(() => {
  add('cookie', d.cookie.split(/; */).map(c => c.split('=')[0]));
  // Storage the browser blocks is not reported; the cookies still are.
  try {
    add(__LOCAL_STORAGE__, Object.keys(localStorage));
    add(__SESSION_STORAGE__, Object.keys(sessionStorage));
  } catch (e) {}
  const on = C.categories.filter(k => z.isAccepted(k)).length;
  if (names.length) fetch(new URL('/api/v1/observations', import.meta.url), {
    method: 'POST',
    credentials: 'omit',
    headers: { 'content-type': 'application/json' },
    // At most what the service takes; the rest shows in other page views' reports.
    body: JSON.stringify({
      names: names.slice(0, 64),
      choice: !z.get() ? 'none' : on == C.categories.length ? 'accepted' : on ? 'custom' : 'rejected'
    })
  }).catch(() => {});
}, 1e3);
