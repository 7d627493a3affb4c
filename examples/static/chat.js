// Progressive enhancement for the chat page: fetches the page again every 8 seconds and
// swaps in the new thread, so replies from a human agent appear without a reload. The
// form is left alone, so nothing being typed is lost. Without JavaScript, reload by hand.
(function () {
  "use strict";
  var thread = document.querySelector(".thread");
  if (!thread || !window.fetch || !window.DOMParser) {
    return;
  }
  setInterval(function () {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".thread");
        if (fresh && fresh.innerHTML !== thread.innerHTML) {
          var node = document.importNode(fresh, true);
          thread.replaceWith(node);
          thread = node;
          if (window.helpdeskLocalTimes) { window.helpdeskLocalTimes(node); }
        }
      })
      .catch(function () { /* offline for a moment: try again on the next tick */ });
  }, 8000);
})();
