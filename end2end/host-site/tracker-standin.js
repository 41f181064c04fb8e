// A stand-in for Matomo's matomo.js (whose code we do not ship): it reads the same `_paq`
// commands and sends requests of the same shapes to the tracker URL — an image GET, an
// XMLHttpRequest POST with credentials, navigator.sendBeacon and a bulk POST. Like matomo.js
// with requireConsent, it holds tracking requests until rememberConsentGiven/setConsentGiven.
// `window.__tracker.sendEveryShape(label)` sends one request of each shape at once, whatever
// the consent: what a page that forgot requireConsent, a cached script or an extension does.
(function () {
  var w = window;
  var trackerUrl = '';
  var siteId = '';
  var consentRequired = false;
  var consentGiven = false;
  var held = [];
  var visitorId = Array.from(crypto.getRandomValues(new Uint8Array(8)), function (b) {
    return b.toString(16).padStart(2, '0');
  }).join('');
  w.__xhrStatuses = [];

  function query(params) {
    var now = Math.floor(Date.now() / 1000);
    var all = Object.assign(
      { idsite: siteId, rec: '1', r: String(Math.random()).slice(2, 8), _id: visitorId, _idts: String(now), _idvc: '1',
        url: location.href, res: screen.width + 'x' + screen.height, cookie: '1' },
      params
    );
    return new URLSearchParams(all).toString();
  }
  function image(q) {
    new Image(1, 1).src = trackerUrl + '?' + q;
  }
  function xhr(body) {
    var request = new XMLHttpRequest();
    request.open('POST', trackerUrl, true);
    request.withCredentials = true;
    request.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8');
    request.onloadend = function () { w.__xhrStatuses.push(request.status); };
    request.send(body);
  }
  function beacon(body) {
    navigator.sendBeacon(trackerUrl, new Blob([body], { type: 'application/x-www-form-urlencoded; charset=UTF-8' }));
  }
  function bulk(queries) {
    xhr('{"requests":["?' + queries.join('","?') + '"],"send_image":0}');
  }
  function send(q) {
    if (consentRequired && !consentGiven) return held.push(q);
    image(q);
  }
  var commands = {
    setTrackerUrl: function (url) { trackerUrl = url; },
    setSiteId: function (id) { siteId = String(id); },
    requireConsent: function () { consentRequired = true; },
    rememberConsentGiven: function () { commands.setConsentGiven(); },
    setConsentGiven: function () {
      consentGiven = true;
      held.splice(0).forEach(image);
    },
    forgetConsentGiven: function () { consentGiven = false; },
    trackPageView: function (title) { send(query({ action_name: title || document.title })); },
    trackEvent: function (category, action) { send(query({ e_c: category, e_a: action })); },
  };
  function run(command) {
    var fn = commands[command[0]];
    if (fn) fn.apply(null, command.slice(1));
  }
  var queued = w._paq || [];
  w._paq = { push: function () { Array.prototype.forEach.call(arguments, run); } };
  queued.forEach(run);
  w.__tracker = {
    sendEveryShape: function (label) {
      image(query({ action_name: label + ' image' }));
      xhr(query({ action_name: label + ' xhr', send_image: '0' }));
      beacon(query({ action_name: label + ' beacon', send_image: '0' }));
      bulk([query({ action_name: label + ' bulk 1' }), query({ action_name: label + ' bulk 2' })]);
    },
  };
})();
