// Site-wide behaviour. No inline script anywhere: the Content-Security-Policy forbids it.
// Everything here enhances pages that work without it: forms submit, links link.
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  // A query longer than this (URL-encoded) is sent by POST: it would not fit in a URL that
  // proxies and gunicorn accept (4 094 bytes for the whole request line).
  var MAX_URL_QUERY = 1800;
  var LIVE_DELAY = 300; // ms of quiet before a live search
  var EMPTY_DELAY = 900; // more quiet before "No article matches" replaces the results

  function label(name, fallback) {
    return document.body.getAttribute("data-" + name) || fallback;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (e) {
      return "";
    }
  }

  function isTyping(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  // --- "/" focuses the search box, as on most documentation sites ---------------------------
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    var box = document.querySelector("main [data-search-box]") || document.querySelector("[data-search-box]");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // --- Copy ---------------------------------------------------------------------------------
  function copyText(text, button) {
    var done = function () {
      var original = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", original);
      button.textContent = label("copied-label", "Copied");
      button.classList.add("copied");
      setTimeout(function () {
        button.textContent = original;
        button.classList.remove("copied");
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {
        fallbackCopy(text);
        done();
      });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  // <button data-copy="ID"> copies the text of the element with that id;
  // <button data-copy-url="URL"> copies an absolute link.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy], button[data-copy-url]") : null;
    if (!button) return;
    if (button.hasAttribute("data-copy-url")) {
      copyText(new URL(button.getAttribute("data-copy-url"), location.href).href, button);
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (source) copyText(source.innerText.replace(/\n$/, ""), button);
  });

  var codeCount = 0;

  // Every code block gets a toolbar with a Copy button above the code (never over it), unless
  // the page already gives it one (data-copy pointing at it) or it opts out (data-no-copy).
  function enhanceCodeBlocks(scope) {
    scope.querySelectorAll("main pre").forEach(function (pre) {
      if (pre.closest("[data-no-copy], .code-block, .listing")) return;
      if (pre.id && document.querySelector('[data-copy="' + pre.id + '"]')) return;
      var block = pre.parentElement && pre.parentElement.classList.contains("codehilite") ? pre.parentElement : pre;
      if (!pre.id) pre.id = "code-" + (++codeCount);
      var wrapper = document.createElement("div");
      wrapper.className = "code-block";
      var tools = document.createElement("div");
      tools.className = "code-tools";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.setAttribute("data-copy", pre.id);
      button.textContent = label("copy-label", "Copy");
      tools.appendChild(button);
      block.parentNode.insertBefore(wrapper, block);
      wrapper.appendChild(tools);
      wrapper.appendChild(block);
    });
    // Wide tables scroll inside a wrapper.
    scope.querySelectorAll("main .article-body table, main .check-doc table").forEach(function (table) {
      if (table.parentElement.classList.contains("table-scroll")) return;
      var wrapper = document.createElement("div");
      wrapper.className = "table-scroll";
      table.parentNode.insertBefore(wrapper, table);
      wrapper.appendChild(table);
    });
    markScrollable(scope);
  }

  // A region that scrolls sideways must be reachable by keyboard (WCAG 2.1.1) and named.
  function markScrollable(scope) {
    scope.querySelectorAll("main pre, main .table-scroll").forEach(function (element) {
      var scrolls = element.scrollWidth > element.clientWidth + 1;
      if (scrolls && !element.hasAttribute("tabindex")) {
        element.setAttribute("tabindex", "0");
        element.setAttribute("role", "region");
        element.setAttribute("aria-label", label(element.tagName === "PRE" ? "code-label" : "table-label", "Scrollable"));
        element.setAttribute("data-made-focusable", "");
      } else if (!scrolls && element.hasAttribute("data-made-focusable")) {
        ["tabindex", "role", "aria-label", "data-made-focusable"].forEach(function (name) {
          element.removeAttribute(name);
        });
      }
    });
  }

  function linkIcon() {
    var icon = document.createElement("span");
    icon.className = "icon icon-link";
    icon.setAttribute("aria-hidden", "true");
    return icon;
  }

  // Every section heading with an anchor gets a "copy link" button next to it.
  function enhanceHeadings(scope) {
    scope.querySelectorAll("main h2[id], main h3[id], main h4[id]").forEach(function (heading) {
      if (heading.querySelector("button.copy-link") || heading.closest("[data-no-copy]")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-link";
      button.setAttribute("data-copy-url", "#" + heading.id);
      button.setAttribute("aria-label", label("copy-link-label", "Copy link to this section"));
      button.appendChild(linkIcon());
      heading.appendChild(button);
    });
  }

  // --- Search box: grows, Enter submits, long pastes go by POST -----------------------------
  function grow(box) {
    if (CSS && CSS.supports && CSS.supports("field-sizing", "content")) return;
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, 16 * 12) + "px";
  }

  function isLong(text) {
    return encodeURIComponent(text).length > MAX_URL_QUERY;
  }

  function prepareSubmit(form) {
    var box = form.querySelector("[data-search-box]");
    if (!box) return;
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (isLong(box.value)) {
      form.method = "post";
      if (!token) {
        token = document.createElement("input");
        token.type = "hidden";
        token.name = "csrfmiddlewaretoken";
        token.value = csrfToken();
        form.appendChild(token);
      }
    } else {
      form.method = "get";
      if (token) token.remove();
    }
  }

  function initSearchForm(form) {
    var box = form.querySelector("[data-search-box]");
    if (!box || form.hasAttribute("data-ready")) return;
    form.setAttribute("data-ready", "");
    grow(box);
    box.addEventListener("input", function () { grow(box); });
    box.addEventListener("keydown", function (event) {
      // Enter searches; Shift+Enter adds a line; never while an IME composes (ja/zh input).
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        if (!box.value.trim()) return;
        if (form.requestSubmit) form.requestSubmit();
        else { prepareSubmit(form); form.submit(); }
      } else if (event.key === "ArrowDown" && !event.shiftKey) {
        var atEnd = box.selectionStart === box.value.length;
        var first = document.querySelector("#results .results a.title");
        if (first && (atEnd || box.value.indexOf("\n") === -1)) {
          event.preventDefault();
          first.focus();
        }
      }
    });
    form.addEventListener("submit", function () { prepareSubmit(form); });
    if (form.hasAttribute("data-live-search")) initLiveSearch(form, box);
  }

  // --- Live search: results while typing, the URL follows, Back works ----------------------
  function initLiveSearch(form, box) {
    var region = document.getElementById(form.getAttribute("data-live-search"));
    if (!region) return;
    var searchPath = new URL(form.action, location.href).pathname;
    var startUrl = location.pathname + location.search;
    // Emptied, the box returns to this page without a query: its address and its title.
    var startTitle = document.title;
    if (new URLSearchParams(location.search).has("q")) {
      startUrl = location.pathname;
      startTitle = form.getAttribute("data-empty-title") || startTitle;
    }
    var lastQuery = box.value.trim();
    var timer = null;
    var emptyTimer = null;
    var controller = null;
    var pushed = false;

    function urlFor(query) {
      if (!query.trim()) return startUrl;
      if (isLong(query)) return null; // too long for a URL: leave the address as it is
      return searchPath + "?" + new URLSearchParams({ q: query }).toString();
    }

    function followInUrl(query) {
      var target = urlFor(query);
      if (!target || target === location.pathname + location.search) return;
      var state = { liveQuery: query };
      if (!pushed) {
        history.pushState(state, "", target);
        pushed = true;
      } else {
        history.replaceState(state, "", target);
      }
    }

    function show(fragment) {
      // The fragment names the search it answers (kb/search.html): the tab follows the URL.
      var title = fragment.querySelector("title");
      if (title) {
        document.title = title.textContent;
        title.remove();
      }
      region.replaceChildren(fragment);
      region.removeAttribute("aria-busy");
      enhanceCodeBlocks(region);
    }

    function run(query, updateUrl) {
      clearTimeout(emptyTimer);
      if (query.trim() === lastQuery) return;
      lastQuery = query.trim();
      if (updateUrl) followInUrl(query);
      if (controller) controller.abort();
      if (!query.trim()) {
        controller = null;
        region.replaceChildren();
        document.title = startTitle;
        return;
      }
      controller = new AbortController();
      var options = { headers: { "HX-Request": "true" }, signal: controller.signal, credentials: "same-origin" };
      var url = form.action;
      if (isLong(query)) {
        var body = new FormData();
        body.append("q", query);
        options.method = "POST";
        options.body = body;
        options.headers["X-CSRFToken"] = csrfToken();
      } else {
        url = searchPath + "?" + new URLSearchParams({ q: query }).toString();
      }
      region.setAttribute("aria-busy", "true");
      fetch(url, options)
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var template = document.createElement("template");
          template.innerHTML = html;
          var fragment = template.content;
          var empty = fragment.querySelector(".no-results") && !fragment.querySelector(".results");
          // A partial word often matches nothing: say so only once the typing has paused.
          if (empty) emptyTimer = setTimeout(function () { show(fragment); }, EMPTY_DELAY);
          else show(fragment);
        })
        .catch(function () { region.removeAttribute("aria-busy"); });
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      clearTimeout(emptyTimer);
      timer = setTimeout(function () { run(box.value, true); }, LIVE_DELAY);
    });

    window.addEventListener("popstate", function () {
      var query = new URLSearchParams(location.search).get("q") || "";
      box.value = query;
      grow(box);
      pushed = false;
      run(query, false);
    });
  }

  // Arrow keys move through the results; Escape goes back to the box.
  document.addEventListener("keydown", function (event) {
    var link = event.target.closest ? event.target.closest("#results .results a.title") : null;
    if (!link) return;
    var links = Array.prototype.slice.call(document.querySelectorAll("#results .results a.title"));
    var index = links.indexOf(link);
    var box = document.querySelector("main [data-search-box]");
    if (event.key === "ArrowDown" && index < links.length - 1) {
      event.preventDefault();
      links[index + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index > 0) links[index - 1].focus();
      else if (box) box.focus();
    } else if (event.key === "Escape" && box) {
      box.focus();
    }
  });

  // --- Language switch: submit on change; the button is for pages without JavaScript ---------
  document.addEventListener("change", function (event) {
    var select = event.target.closest ? event.target.closest("select[data-autosubmit]") : null;
    if (select && select.form) select.form.submit();
  });

  // --- The menu closes on Escape and on a click outside it ----------------------------------
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.site-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target) && getComputedStyle(menu.querySelector("summary")).display !== "none") {
        menu.removeAttribute("open");
      }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector("details.site-menu[open]");
    if (menu && menu.contains(event.target)) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    }
  });

  function init() {
    document.querySelectorAll("form[data-search-form]").forEach(initSearchForm);
    enhanceCodeBlocks(document);
    enhanceHeadings(document);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  window.addEventListener("resize", function () { markScrollable(document); });
  // Fragments swapped in by htmx (analyzer results, troubleshooter answers) get the same.
  document.addEventListener("htmx:afterSettle", function (event) {
    enhanceCodeBlocks(event.target);
    enhanceHeadings(event.target);
  });
})();

// A filter over a table of links (the article list): text and language, in the page.
(function () {
  "use strict";
  function init(box) {
    var table = document.getElementById(box.getAttribute("data-filter-table"));
    if (!table) return;
    var text = box.querySelector("[data-filter-text]");
    var lang = box.querySelector("[data-filter-lang]");
    var count = box.querySelector("[data-filter-count]");
    var empty = document.querySelector("[data-filter-empty]");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    function apply() {
      var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      var wanted = lang.value;
      var shown = 0;
      rows.forEach(function (row) {
        var haystack = (row.getAttribute("data-text") || "").toLowerCase();
        // data-lang lists every language the article can be read in.
        var langs = (row.getAttribute("data-lang") || "").split(" ");
        var ok = (!wanted || langs.indexOf(wanted) !== -1) &&
          words.every(function (word) { return haystack.indexOf(word) !== -1; });
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = shown + " / " + rows.length;
      if (empty) empty.hidden = shown !== 0;
    }
    text.addEventListener("input", apply);
    lang.addEventListener("change", apply);
    apply();
  }
  function initAll() { document.querySelectorAll("[data-filter-table]").forEach(init); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
