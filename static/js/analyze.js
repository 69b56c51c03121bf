// The manifest analyzer page: drop a file onto the text box, and show the server's error
// messages (400/413) in the results region when the form is sent through htmx.
(function () {
  "use strict";

  function setMessage(form, text, isError) {
    var box = form.querySelector("[data-drop-message]");
    if (!box) return;
    box.textContent = text;
    box.classList.toggle("error", Boolean(isError));
  }

  function readInto(form, file) {
    var textarea = form.querySelector("textarea");
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (!textarea || !file) return;
    if (limit && file.size > limit) {
      setMessage(form, file.name + " is " + file.size.toLocaleString() + " bytes; the limit is " +
        limit.toLocaleString() + " bytes.", true);
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      textarea.value = String(reader.result);
      setMessage(form, "Read " + file.name + " into the text box.", false);
    };
    reader.onerror = function () { setMessage(form, "Could not read " + file.name + ".", true); };
    reader.readAsText(file);
  }

  function init(form) {
    var zone = form.querySelector("[data-dropzone]");
    if (!zone || zone.getAttribute("data-ready")) return;
    zone.setAttribute("data-ready", "1");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) readInto(form, files[0]);
    });
  }

  function initAll() {
    document.querySelectorAll("form.analyze-form").forEach(init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();

  // htmx 2 does not swap 4xx answers by default. Ours carry a message fragment for the
  // results region; a full error page (from the size-limit middleware) is shown as text.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var status = detail.xhr && detail.xhr.status;
    if (status !== 400 && status !== 413) return;
    if (!detail.target || detail.target.id !== "results") return;
    var body = detail.xhr.responseText || "";
    if (/^\s*<!doctype/i.test(body)) {
      detail.shouldSwap = false;
      var page = new DOMParser().parseFromString(body, "text/html");
      var main = page.querySelector("main");
      var box = document.createElement("div");
      box.className = "callout error analyze-error";
      box.setAttribute("role", "alert");
      box.textContent = main ? main.textContent.trim() : "The request was refused (" + status + ").";
      detail.target.replaceChildren(box);
      return;
    }
    detail.shouldSwap = true;
    detail.isError = false;
  });
})();
