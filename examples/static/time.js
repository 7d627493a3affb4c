// Shows every <time datetime="…"> of the page in the viewer's time zone: the server writes
// UTC ("2026-11-22 14:05 UTC"); this rewrites the text as a relative time ("3 minutes
// ago") for the last week and as the local date and time before that, and puts the full
// local date, time and zone in the title (the tooltip). Served from the app
// (Content-Security-Policy `script-src 'self'`); without it the UTC text stays.
(function () {
  "use strict";
  if (!window.Intl || !Intl.DateTimeFormat || !document.querySelectorAll) {
    return;
  }
  var full = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "numeric", minute: "2-digit", timeZoneName: "short"
  });
  var short = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit"
  });
  var relative = Intl.RelativeTimeFormat
    ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
    : null;
  var units = [
    ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]
  ];
  var WEEK = 7 * 86400;

  function ago(ms) {
    var seconds = (ms - Date.now()) / 1000;
    if (!relative || Math.abs(seconds) >= WEEK) {
      return null;
    }
    if (Math.abs(seconds) < 45) {
      return relative.format(0, "second");
    }
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(seconds) >= units[i][1]) {
        return relative.format(Math.round(seconds / units[i][1]), units[i][0]);
      }
    }
    return relative.format(0, "second");
  }

  function localize(root) {
    var times = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var ms = Date.parse(el.getAttribute("datetime"));
      if (isNaN(ms)) {
        continue;
      }
      var when = new Date(ms);
      el.title = full.format(when);
      el.textContent = ago(ms) || short.format(when);
      el.setAttribute("data-local", "");
    }
  }

  // The chat page swaps in fresh threads (chat.js): it calls this on the new nodes.
  window.helpdeskLocalTimes = localize;
  localize(document);
  setInterval(function () { localize(document); }, 30000);
})();
