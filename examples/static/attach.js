// Files dropped on a form with a file input join the files chosen in it. Only an
// enhancement: the input works without it (and without scripts), and what is sent is
// still the form's own file input, checked by the server like any other upload.
(function () {
  "use strict";
  if (typeof DataTransfer === "undefined") return;

  function hasFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }

  function enhance(form) {
    var input = form.querySelector("input[type=file]");
    if (!input) return;
    var depth = 0;
    form.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) return;
      depth += 1;
      form.classList.add("dropping");
    });
    form.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) form.classList.remove("dropping");
    });
    form.addEventListener("dragover", function (event) {
      if (hasFiles(event)) event.preventDefault();
    });
    form.addEventListener("drop", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      form.classList.remove("dropping");
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
      Array.prototype.forEach.call(event.dataTransfer.files, function (f) { all.items.add(f); });
      input.files = all.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  document.querySelectorAll("form[data-drop]").forEach(enhance);
})();
