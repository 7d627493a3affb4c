// Streams the bot's answer into the page as it is written: the message form is sent to
// `…/message/stream`, the answer so far shows in a provisional bubble ("checking
// sources…"), and once the turn is committed the thread is reloaded, so what stays on the
// page is the checked answer (or the handoff notice when it was not grounded). Without
// streaming support the form posts as usual.
(function () {
  "use strict";
  var form = document.querySelector("form[action$='/message']");
  if (!form || !window.fetch || !window.TextDecoder || !window.URLSearchParams ||
      !window.ReadableStream) {
    return;
  }
  var box = form.querySelector("textarea[name=text]");
  var plainSubmit = function () { HTMLFormElement.prototype.submit.call(form); };

  function refreshThread() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { window.location.reload(); return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".thread");
        var thread = document.querySelector(".thread");
        if (fresh && thread) {
          var node = document.importNode(fresh, true);
          thread.replaceWith(node);
          if (window.helpdeskLocalTimes) { window.helpdeskLocalTimes(node); }
        }
        var freshForm = new DOMParser().parseFromString(html, "text/html")
          .querySelector("form[action$='/message']");
        if (!freshForm) { window.location.reload(); }
      });
  }

  function bubble(kind, label, text) {
    var article = document.createElement("article");
    article.className = "msg msg-" + kind;
    var header = document.createElement("header");
    var who = document.createElement("strong");
    who.textContent = label;
    header.appendChild(who);
    var body = document.createElement("div");
    body.className = "body";
    body.textContent = text;
    article.appendChild(header);
    article.appendChild(body);
    return article;
  }

  form.addEventListener("submit", function (event) {
    // "Talk to a human" posts elsewhere; an empty message is refused by the server in place.
    if (event.submitter && event.submitter.getAttribute("formaction")) { return; }
    var data = new URLSearchParams(new FormData(form));
    if (!(data.get("text") || "").trim()) { return; }
    event.preventDefault();
    var thread = document.querySelector(".thread");
    if (thread) {
      thread.appendChild(bubble("customer", "You", data.get("text")));
    }
    var hello = document.querySelector(".chat .card.empty");
    if (hello) { hello.remove(); }
    var answer = bubble("bot", "Assistant", "");
    answer.classList.add("provisional");
    answer.setAttribute("aria-live", "polite");
    var note = document.createElement("span");
    note.className = "who-tag";
    note.textContent = "writing… not checked yet";
    answer.querySelector("header").appendChild(note);
    box.value = "";
    box.disabled = true;
    // Once the server answered, the message is stored: never post it a second time.
    var received = false;
    fetch(form.action + "/stream", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: data.toString()
    }).then(function (response) {
      if (!response.ok || !response.body) { throw new Error("stream refused"); }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var pending = "";
      var last = null;
      function handle(line) {
        if (!line.trim()) { return; }
        received = true;
        var message = JSON.parse(line);
        if (typeof message.provisional === "string") {
          // The live refresh above may have swapped the thread meanwhile.
          var current = document.querySelector(".thread");
          if (current && !current.contains(answer)) { current.appendChild(answer); }
          answer.querySelector(".body").textContent = message.provisional;
        } else {
          last = message;
        }
      }
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            handle(pending);
            return last;
          }
          pending += decoder.decode(chunk.value, { stream: true });
          var lines = pending.split("\n");
          pending = lines.pop();
          lines.forEach(handle);
          return pump();
        });
      }
      return pump();
    }).then(function (last) {
      box.disabled = false;
      if (last && last.error) {
        // Refused (e.g. the chat closed): the ordinary post shows why, on the form.
        box.value = data.get("text");
        plainSubmit();
        return;
      }
      return refreshThread();
    }).catch(function () {
      box.disabled = false;
      if (received) {
        refreshThread();
      } else {
        box.value = data.get("text");
        plainSubmit();
      }
    });
  });
})();
