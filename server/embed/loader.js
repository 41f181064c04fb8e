/* ZecCloud Consent embed loader, served as /embed.js with __CONFIG__ filled in (LoaderConfig,
   server/src/routes/embed/assets.rs). A returning visitor with a valid choice costs this file
   alone: it reads the consent cookie, applies the choice and fetches nothing else (but in a
   sampled page view, the report). A visitor to ask fetches the banner, which brings its
   stylesheet along: one round trip after this file. Minified at build time (server/build.rs). */
((w, d) => {
  const C = __CONFIG__, tag = d.currentScript, subs = [],
    gcmOn = !!tag && tag.hasAttribute('data-google-consent-mode'),
    queued = Array.isArray(w.zcConsent) ? w.zcConsent : [];
  let cur = null, known = false, root, chain = Promise.resolve(), lang, g = null, jur = null;

  // g: what may run: the decision's states, or before one the service's grants (opt-out and
  // notice regimes: on until refused).
  const acc = k => k == 'necessary' || !!(g && g[k]);

  const fromCookie = () => {
    let c;
    try {
      c = JSON.parse(atob(d.cookie.match(/(?:^|; )zc_consent=([^;]*)/)[1].split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch (e) { return null; }
    if (c.exp * 1e3 < Date.now() || !C.versions.includes(c.ver) || C.categories.some(k => !(k in c.cats))) return null;
    return { policyVersion: c.ver, categories: c.cats, eventId: c.eid, decidedAt: c.iat, action: c.act };
  };

  // Google Consent Mode v2, when the tag asks for it.
  const gcm = kind => {
    if (!gcmOn) return;
    const s = k => acc(k) ? 'granted' : 'denied';
    w.dataLayer = w.dataLayer || [];
    (w.gtag || function () { w.dataLayer.push(arguments); })('consent', kind, {
      analytics_storage: s('analytics'), ad_storage: s('marketing'), ad_user_data: s('marketing'),
      ad_personalization: s('marketing'), functionality_storage: s('preferences'),
      personalization_storage: s('preferences'), security_storage: 'granted'
    });
  };

  // Blocked scripts run once, in document order, when all their categories are accepted.
  const scan = () => d.querySelectorAll('script[type="text/plain"][data-category]:not([data-zc])').forEach(o => {
    if (!g || !o.dataset.category.split(/\s+/).every(k => !k || acc(k))) return;
    o.setAttribute('data-zc', '');
    chain = chain.then(() => new Promise(done => {
      const s = d.createElement('script');
      for (const a of o.attributes) if (!/^(type|data-zc)$/.test(a.name)) s.setAttribute(a.name, a.value);
      s.type = o.dataset.type || 'text/javascript';
      if (o.src) { s.onload = s.onerror = done; s.src = o.src; } else { s.text = o.text; done(); }
      o.after(s);
    }));
  });

  const apply = (c, granted) => {
    const was = acc('analytics'), initial = !known;
    cur = c; g = granted || c.categories; known = true;
    scan();
    // Matomo's own consent API, for pages that set requireConsent.
    if (w._paq) {
      if (acc('analytics')) w._paq.push(['rememberConsentGiven']);
      else if (was) w._paq.push(['forgetConsentGiven']);
    }
    gcm('update');
    // Sampled, once: embed/observe.js reports (a module: sent without cookies).
    initial && Math.random() < C.sample_rate && import(base + '/embed/observe.js').catch(() => {});
    subs.forEach(f => f(cur));
    d.dispatchEvent(new CustomEvent('zc:consent', { detail: { consent: cur, initial, jurisdiction: jur } }));
  };

  const base = C.base || (tag ? tag.src.replace(/\/embed\.js([?#].*)?$/, '') : '');
  // A failure carries its status (none when the service did not answer at all).
  const json = (path, init) => fetch(base + path, { credentials: 'include', ...init })
    .then(r => r.json().catch(() => ({})).then(j => {
      const e = j.error || j;
      if (!r.ok) throw Object.assign(new Error(e.message || r.statusText), { code: e.code, status: r.status });
      return j;
    }));

  const language = () => lang || d.documentElement.lang || navigator.language;

  // Records a decision (a form's fields, or the API's; `via` says which). Unsaved (503, no
  // answer), it is sent again with back-off for about a minute, with its age; the banner
  // closes meanwhile; a newer choice supersedes it. The waits and the storage rule are the
  // island's: build.rs writes each __NAME__ from app/src/delivery/rules.rs.
  const waits = __RETRY_DELAYS_MS__;
  let latest = 0;
  const send = (fields, via) => {
    const body = new URLSearchParams(fields), made = performance.now(), mine = ++latest;
    body.has('policy_version') || body.set('policy_version', C.current);
    body.has('language') || body.set('language', language());
    body.set('via', via);
    const attempt = n => json('/embed/consent', { method: 'POST', body }).catch(err => {
      if (mine != latest || err.status && err.status != 503 || n >= waits.length) throw err;
      if (root && via != 'api') fill('');
      return new Promise(r => setTimeout(r, waits[n])).then(() => {
        body.set('decided_ms_ago', Math.max(1, Math.round(performance.now() - made)));
        return attempt(n + 1);
      });
    });
    return attempt(0).then(j => {
      for (const k of j.clear_storage || []) {
        const st = k.kind == __LOCAL_STORAGE__ ? localStorage : k.kind == __SESSION_STORAGE__ && sessionStorage,
          p = k.name.endsWith(__STORAGE_WILDCARD__) ? k.name.slice(0, -__STORAGE_WILDCARD__.length) : null;
        st && Object.keys(st).forEach(n => (p == null ? n == k.name : n.startsWith(p)) && st.removeItem(n));
      }
      if (root) fill('');
      apply(j.consent);
      return cur;
    });
  };

  // The stylesheet comes in the first fragment with markup (`style=1`): one round trip. The
  // shadow root adopts it: it applies as the markup goes in, survives markup changes, needs no
  // style-src in the host's CSP. Without constructable stylesheets: a <style>.
  let sheet, text;
  const fragment = kind => json('/embed/' + kind + '?lang=' + encodeURIComponent(language()) + (sheet || text ? '' : '&style=1')).then(j => {
    if (j.style) try { sheet = new CSSStyleSheet(); sheet.replaceSync(j.style); } catch (e) { sheet = null; text = j.style; }
    return j;
  });
  const fill = html => {
    root.innerHTML = html;
    if (text) root.prepend(Object.assign(d.createElement('style'), { textContent: text }));
  };
  const body = new Promise(r => d.body ? r() : d.addEventListener('DOMContentLoaded', r));

  // Markup (or, with null, none: the preference center adds its own) goes into the shadow
  // root, styled from the start: no flash, no leaks either way.
  const put = html => body.then(() => {
    if (!root) {
      const host = d.createElement('div');
      host.id = 'zc-consent';
      root = host.attachShadow({ mode: 'open' });
      d.body.append(host);
      root.addEventListener('submit', e => {
        const f = e.target, data = new FormData(f);
        e.preventDefault();
        if (f.method == 'get') { lang = data.get('lang'); open(); return; }
        send(data, data.get('from') == 'preferences' ? 'preferences' : 'banner').catch(err => {
          // Retries spent with the banner closed: ask again, the choice was not saved.
          if (!f.isConnected) return open();
          const p = d.createElement('p');
          p.className = 'zc-error'; p.role = 'alert'; p.textContent = err.message;
          f.append(p);
        });
      });
      root.addEventListener('click', e => {
        const a = e.target.closest('[data-action]'), act = a && a.dataset.action;
        if (act == 'customize') { e.preventDefault(); preferences(); }
        if (act == 'close') a.closest('dialog').close();
      });
    }
    if (sheet) root.adoptedStyleSheets = [sheet];
    if (html != null) fill(html);
  });

  // The banner, if the service says this visitor must be asked. Outside opt-in, what the
  // service grants applies before any decision.
  const open = () => fragment('banner').then(j => {
    jur = j.jurisdiction;
    if (!known && (j.needs_prompt ? jur.regime != 'opt_in' : j.consent)) apply(j.consent, j.granted);
    if (j.needs_prompt) return put(j.html);
  });

  // The preference center: the service's own component, opened as a modal dialog.
  const preferences = () => fragment('preferences').then(j =>
    put(null).then(() => {
      const t = d.createElement('template');
      root.querySelector('dialog')?.remove();
      t.innerHTML = j.html;
      root.append(t.content);
      root.querySelector('dialog').showModal();
    }));

  const api = w.zcConsent = {
    get: () => cur,
    get jurisdiction() { return jur; },
    isAccepted: acc,
    onChange: f => { subs.push(f); known && f(cur); return () => subs.splice(subs.indexOf(f), 1); },
    open,
    openPreferences: preferences,
    accept: cats => {
      const f = { action: cats ? 'custom' : 'accept_all' };
      for (const k of cats || []) f['categories[' + k + ']'] = 'on';
      return send(f, 'api');
    },
    reject: () => send({ action: 'reject_all' }, 'api'),
    scan,
    push: call => api[call[0]]?.(...call.slice(1))
  };
  gcm('default');
  queued.forEach(api.push);
  new MutationObserver(() => g && scan()).observe(d.documentElement, { childList: true, subtree: true });

  // Asking starts at once, even before the page has a body: the markup waits for it, not the
  // requests.
  const c = fromCookie();
  if (c) apply(c);
  else open();
})(window, document);
