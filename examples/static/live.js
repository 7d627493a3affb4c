// Live pages: elements marked `data-live` (with an id) are refreshed when the helpdesk's
// event stream (`/api/v1/events`, Server-Sent Events, authenticated by the session cookie)
// reports a change, without reloading the page: the page is fetched again and each marked
// element is swapped for its new version. `data-live-ticket="<id>"` limits the refresh to
// events of that ticket. What the person is typing is never touched: forms stay outside
// the marked elements. Served from the app (Content-Security-Policy `script-src 'self'`);
// without it, or without EventSource, the page simply does not update itself.
(function () {
  "use strict";
  var live = document.querySelectorAll("[data-live][id]");
  if (!live.length || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var ticket = null;
  for (var i = 0; i < live.length; i++) {
    ticket = ticket || live[i].getAttribute("data-live-ticket");
  }
  var status = document.querySelector("[data-live-status]");
  var pending = null;

  function show(text, state) {
    if (status) {
      status.textContent = text;
      status.setAttribute("data-state", state);
    }
  }

  function refresh() {
    pending = null;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        for (var i = 0; i < live.length; i++) {
          var old = document.getElementById(live[i].id);
          var next = fresh.getElementById(live[i].id);
          if (old && next) {
            // Rows the agent has ticked for a bulk change stay ticked in the fresh list.
            var ticked = old.querySelectorAll("input[type=checkbox]:checked");
            for (var j = 0; j < ticked.length; j++) {
              var same = next.querySelector("input[type=checkbox][value='" + ticked[j].value + "']");
              if (same) {
                same.checked = true;
              }
            }
            old.replaceWith(next);
            if (window.helpdeskLocalTimes) {
              window.helpdeskLocalTimes(next);
            }
          }
        }
        document.documentElement.setAttribute("data-live-updated", String(Date.now()));
      })
      .catch(function () { /* the next event tries again */ });
  }

  function changed(event) {
    if (ticket) {
      try {
        if (JSON.parse(event.data).ticket_id !== ticket) {
          return;
        }
      } catch (e) {
        return;
      }
    }
    if (!pending) {
      pending = setTimeout(refresh, 250);
    }
  }

  var source = null;

  function connect() {
    source = new EventSource("/api/v1/events");
    ["created", "assigned", "status_changed", "reopened", "priority_changed", "category_changed",
     "team_changed", "tags_changed", "custom_fields_changed", "message_added", "draft_decided",
     "merged", "merged_from", "sla_breached", "csat_recorded", "follow_up_opened"]
      .forEach(function (kind) {
        source.addEventListener(kind, changed);
      });
    source.onopen = function () { show("Live", "open"); };
    source.onerror = function () { show("Reconnecting…", "retrying"); };
  }

  // The stream is closed when the page is left: a browser keeps at most six connections
  // to one server, and a page kept for the back button with its stream open would hold
  // one of them (after six such pages, the next page would never load). Coming back to
  // the page opens a new stream and fetches what changed meanwhile.
  window.addEventListener("pagehide", function () {
    if (source) {
      source.close();
      source = null;
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !source) {
      connect();
      refresh();
    }
  });
  connect();
})();
