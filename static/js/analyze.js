// The manifest analyzer page: drop a file onto the text box, and show the server's error
// messages (400/413) in the results region when the form is sent through htmx.
(function () {
  "use strict";

  // Messages come translated from the form's data-msg-* attributes ({name} is the file name).
  function message(form, key, fallback, name) {
    return (form.getAttribute("data-msg-" + key) || fallback).replace("{name}", name || "");
  }

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
      setMessage(form, message(form, "too-large", "{name} is too large", file.name) + ": " + file.size.toLocaleString() + " > " +
        limit.toLocaleString() + " bytes.", true);
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      textarea.value = String(reader.result);
      setMessage(form, message(form, "read", "Read {name} into the text box.", file.name), false);
    };
    reader.onerror = function () { setMessage(form, message(form, "unreadable", "Could not read {name}.", file.name), true); };
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

  // A chosen file wins over the text box on the server. Text typed or pasted after choosing a
  // file is what the user means now: forget the file. The file can also be cleared by hand.
  function initFile(form) {
    var input = form.querySelector("input[type=file]");
    var textarea = form.querySelector("textarea");
    var clear = form.querySelector("[data-clear-file]");
    if (!input || !textarea || input.getAttribute("data-ready")) return;
    input.setAttribute("data-ready", "1");
    function sync() {
      if (clear) clear.hidden = !(input.files && input.files.length);
    }
    input.addEventListener("change", function () {
      sync();
      if (input.files && input.files.length) {
        setMessage(form, message(form, "file-chosen", "The chosen file is analysed, not the text box."), false);
      }
    });
    textarea.addEventListener("input", function () {
      if (input.files && input.files.length) {
        input.value = "";
        sync();
        setMessage(form, message(form, "file-dropped", "The file was set aside: the text box is analysed."), false);
      }
    });
    if (clear) {
      clear.addEventListener("click", function () {
        input.value = "";
        sync();
        setMessage(form, "", false);
        input.focus();
      });
    }
    sync();
  }

  function initAll() {
    document.querySelectorAll("form.analyze-form").forEach(function (form) {
      init(form);
      initFile(form);
    });
    initReport(document);
  }

  // --- The report: severity filter, compact listing, next finding ---------------------------
  function initReport(scope) {
    var results = scope.querySelector ? scope.querySelector("#results") || (scope.id === "results" ? scope : null) : null;
    if (!results) return;
    var tools = results.querySelector("[data-report-tools]");
    if (!tools || tools.getAttribute("data-ready")) return;
    tools.setAttribute("data-ready", "1");
    // New results start unfiltered, like their checkboxes (the region outlives each swap).
    results.classList.remove("hide-error", "hide-warning", "hide-info", "hide-suppressed");
    tools.querySelectorAll("[data-severity-filter]").forEach(function (box) {
      box.addEventListener("change", function () {
        results.classList.toggle("hide-" + box.value, !box.checked);
      });
    });
    var compact = tools.querySelector("[data-compact-toggle]");
    var listing = results.querySelector("[data-listing]");
    if (compact && listing) {
      compact.addEventListener("change", function () { listing.classList.toggle("compact", compact.checked); });
    }
    var next = tools.querySelector("[data-next-finding]");
    if (next) next.addEventListener("click", function () { goToNextFinding(results); });
  }

  function visible(element) {
    return element.offsetParent !== null;
  }

  function goToNextFinding(results) {
    var pinned = Array.prototype.filter.call(results.querySelectorAll(".listing .pinned"), visible);
    if (!pinned.length) return;
    var current = results.querySelector(".listing .pinned.current");
    var index = current ? pinned.indexOf(current) : -1;
    if (index === -1) {
      // The first one below the top of the screen.
      index = pinned.findIndex(function (element) { return element.getBoundingClientRect().top > 8; }) - 1;
    }
    var target = pinned[(index + 1) % pinned.length];
    if (current) current.classList.remove("current");
    target.classList.add("current");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  }

  // --- Share: a plain form post to the share URL (htmx would send it to /analyze/) ----------
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-share]") : null;
    if (!button || !button.form) return;
    event.preventDefault();
    var form = button.form;
    var action = form.getAttribute("action");
    form.setAttribute("action", button.getAttribute("formaction"));
    HTMLFormElement.prototype.submit.call(form); // no submit event: htmx stays out of it
    form.setAttribute("action", action);
  });

  // --- Download the JSON or SARIF report without leaving the page ---------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-download]") : null;
    if (!button || !window.fetch || !window.FormData) return;
    var form = button.form;
    if (!form) return;
    event.preventDefault();
    var body = new FormData(form);
    fetch(button.getAttribute("formaction"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        var disposition = response.headers.get("Content-Disposition") || "";
        var match = /filename="([^"]+)"/.exec(disposition);
        return response.blob().then(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = match ? match[1] : "report.json";
          document.body.appendChild(link);
          link.click();
          setTimeout(function () {
            URL.revokeObjectURL(link.href);
            link.remove();
          }, 1000);
        });
      })
      .catch(function () { setMessage(form, message(form, "download-failed", "The report could not be downloaded."), true); });
  });

  // Fresh results come into view, their heading focused for screen readers.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.target;
    if (!target || target.id !== "results") return;
    initReport(target.parentNode || document);
    var heading = target.querySelector("#results-heading") || target.querySelector("[role=alert]");
    if (heading) {
      target.scrollIntoView({ block: "start", behavior: "smooth" });
      if (heading.id === "results-heading") heading.focus({ preventScroll: true });
    }
  });
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
