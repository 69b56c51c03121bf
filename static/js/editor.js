// The manifest editor on the analyzer page: line numbers and YAML colours while typing.
//
// Progressive enhancement around the form's own <textarea>: it stays the field that is typed
// into and submitted. Its text is made transparent and a copy of the visible lines, coloured,
// is drawn behind it (aria-hidden: screen readers read the textarea only). Lines do not wrap,
// so line N is always at N × line-height: the gutter and the colour layer render only the
// lines in view (plus a screen above and below) and follow the textarea's scroll position.
// A 2 MB paste costs one pass to find the line starts; nothing else grows with the text.
// Tab is left alone: it moves focus, as everywhere else on the page.
(function () {
  "use strict";

  var LONG_LINE = 10000; // a line in view longer than this: show the textarea's own text
  var COLOUR_LINE = 2000; // a line longer than this is drawn uncoloured
  var LINE_TOKENS = 300; // tokens coloured in one line, the rest drawn uncoloured
  var SPAN_BUDGET = 8000; // coloured spans in one drawing of the lines in view
  var LOOKBACK = 4000; // lines read back to know whether a block scalar (key: |) is still open
  var SLOW_MS = 40; // an update slower than this makes the next ones wait for a pause
  var PAUSE_MS = 150;

  // --- YAML, one line at a time ------------------------------------------------------------
  // Enough YAML for colours, not a parser: keys, strings, numbers and the YAML 1.1 booleans
  // Kubernetes still reads (yes, no, on, off), comments, --- and ..., anchors (&a), aliases
  // (*a), tags (!!str), flow collections and block scalars (| and >) whose lines are text.
  var NUMBER = /^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
  var CONSTANT = /^(?:true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|null|Null|NULL|~)$/;
  var SPACE = /[ \t]+/y;
  var DASH = /-(?=[ \t]|$)/y;
  var PROPERTY = /[&*!][^ \t,\[\]{}]*/y;
  var KEY_END = /:(?:[ \t]|$)/g;
  var COLON = /[ \t]*:/y;
  var BLOCK = /[|>][-+0-9]*(?=[ \t]*(?:#.*)?$)/y;
  var DOUBLE = /"(?:[^"\\]|\\.)*"?/y;
  var SINGLE = /'(?:[^']|'')*'?/y;
  var PLAIN = /(?:[^ \t#]|[ \t]+(?=[^ \t#])|(?<=[^ \t])#)+/y;
  var FLOW_PLAIN = /(?:[^ \t#,\[\]{}:]|:(?=[^ \t,\[\]{}])|[ \t]+(?=[^ \t#,\[\]{}:])|(?<=[^ \t])#)+/y;
  var MAY_OPEN_BLOCK = /[|>][-+0-9]*[ \t]*(?:#.*)?$/;

  function sticky(re, line, pos) {
    re.lastIndex = pos;
    var match = re.exec(line);
    return match ? match[0] : "";
  }

  function indentOf(line) {
    var n = 0;
    while (line.charCodeAt(n) === 32) n++;
    return n;
  }

  function scalarClass(text) {
    return NUMBER.test(text) || CONSTANT.test(text) ? "ed-n" : "ed-v";
  }

  // The tokens of one line outside block scalars: [[class, text], ...] whose texts put
  // together are the line, and the indentation a block scalar opened here must exceed
  // (null when none is opened).
  function tokenize(line) {
    var tokens = [];
    var pos = 0;
    var text;
    var keyColumn = -1;
    var dashColumn = -1;
    var marker = false;
    var block = null;
    function take(cls, piece) {
      tokens.push([cls, piece]);
      pos += piece.length;
    }
    if (/^(?:---|\.\.\.)(?=[ \t]|$)/.test(line)) {
      take("ed-d", line.slice(0, 3));
      marker = true;
    } else if (line.charAt(0) === "%") {
      take("ed-d", line);
      return { tokens: tokens, block: null };
    }
    for (;;) {
      if ((text = sticky(SPACE, line, pos))) take("", text);
      if (!marker && (text = sticky(DASH, line, pos))) {
        dashColumn = pos;
        take("ed-p", text);
        continue;
      }
      break;
    }
    while (line.charAt(pos) === "&" || line.charAt(pos) === "!") {
      take(line.charAt(pos) === "&" ? "ed-a" : "ed-t", sticky(PROPERTY, line, pos));
      if ((text = sticky(SPACE, line, pos))) take("", text);
    }
    if ((text = keyAt(line, pos))) {
      keyColumn = pos;
      take("ed-k", text);
      take("ed-p", sticky(COLON, line, pos));
    }
    if ((text = sticky(SPACE, line, pos))) take("", text);
    while (line.charAt(pos) === "&" || line.charAt(pos) === "!") {
      take(line.charAt(pos) === "&" ? "ed-a" : "ed-t", sticky(PROPERTY, line, pos));
      if ((text = sticky(SPACE, line, pos))) take("", text);
    }
    if ((text = sticky(BLOCK, line, pos))) {
      take("ed-b", text);
      // The block's lines are those indented deeper than the key (or the dash, or the line).
      block = keyColumn >= 0 ? keyColumn : dashColumn >= 0 ? dashColumn : marker ? -1 : indentOf(line);
    }
    value(line, pos, tokens);
    return { tokens: tokens, block: block };
  }

  // The rest of a line from pos, into tokens: strings, flow collections ({a: 1}, [a, b]),
  // anchors, aliases, tags, plain scalars and a comment.
  function value(line, pos, tokens) {
    var depth = 0;
    while (pos < line.length) {
      if (tokens.length >= LINE_TOKENS) {
        tokens.push(["", line.slice(pos)]);
        return;
      }
      var ch = line.charAt(pos);
      var cls = "";
      var text;
      if (ch === " " || ch === "\t") {
        text = sticky(SPACE, line, pos);
      } else if (ch === "#" && (pos === 0 || /[ \t]/.test(line.charAt(pos - 1)))) {
        cls = "ed-c";
        text = line.slice(pos);
      } else if (ch === '"' || ch === "'") {
        cls = "ed-s";
        text = sticky(ch === '"' ? DOUBLE : SINGLE, line, pos);
      } else if (ch === "{" || ch === "[") {
        depth++;
        cls = "ed-p";
        text = ch;
      } else if (depth && "]},:".indexOf(ch) >= 0) {
        if (ch === "]" || ch === "}") depth--;
        cls = "ed-p";
        text = ch;
      } else if (ch === "&" || ch === "*" || ch === "!") {
        cls = ch === "!" ? "ed-t" : "ed-a";
        text = sticky(PROPERTY, line, pos);
      } else {
        text = sticky(depth ? FLOW_PLAIN : PLAIN, line, pos) || ch;
        cls = scalarClass(text);
      }
      // In a flow mapping, a scalar followed by ":" is a key.
      if (depth && /^ed-[svn]$/.test(cls) && /^[ \t]*:/.test(line.slice(pos + text.length, pos + text.length + 16))) {
        cls = "ed-k";
      }
      tokens.push([cls, text]);
      pos += text.length;
    }
  }

  // The key at pos (quoted or plain) when a ": " or a final ":" follows it, else "". Found
  // with one forward search, never a backtracking pattern: a line may be 10 000 characters.
  function keyAt(line, pos) {
    var ch = line.charAt(pos);
    var key;
    if (ch === '"' || ch === "'") {
      key = sticky(ch === '"' ? DOUBLE : SINGLE, line, pos);
      if (key.length < 2 || key.charAt(key.length - 1) !== ch) return "";
      return /^[ \t]*:(?:[ \t]|$)/.test(line.slice(pos + key.length, pos + key.length + 64)) ? key : "";
    }
    if (!ch || " \t#,[]{}&*!|>'\"%@`".indexOf(ch) >= 0) return "";
    KEY_END.lastIndex = pos;
    var found = KEY_END.exec(line);
    if (!found) return "";
    key = line.slice(pos, found.index).replace(/[ \t]+$/, "");
    return /[ \t]#/.test(key) ? "" : key;
  }

  // Whether line `index` is inside a block scalar: reads back to a line at column 0 (never
  // inside one) and forward from there. Returns the indentation the block's lines exceed,
  // or null.
  function blockBefore(lines, index) {
    var start = index - 1;
    var stop = Math.max(0, index - LOOKBACK);
    while (start > stop) {
      var line = lines.line(start);
      if (line.length && line.charCodeAt(0) !== 32 && line.charCodeAt(0) !== 9) break;
      start--;
    }
    var block = null;
    for (var i = Math.max(0, start); i < index; i++) block = nextBlock(lines.line(i), block);
    return block;
  }

  function insideBlock(line, block) {
    if (block === null) return false;
    if (block < 0) return !/^(?:---|\.\.\.)(?=[ \t]|$)/.test(line);
    return /^[ \t]*$/.test(line) || indentOf(line) > block;
  }

  function nextBlock(line, block) {
    if (insideBlock(line, block)) return block;
    if (line.length > LONG_LINE || !MAY_OPEN_BLOCK.test(line)) return null;
    return tokenize(line).block;
  }

  // Lines [first, last) as text nodes and coloured spans (no HTML: nothing to escape), or
  // null when one of them is too long to draw. The number of spans is bounded: past the
  // budget, or in a line too long to colour, the text is drawn uncoloured.
  function render(lines, first, last, doc) {
    var block = blockBefore(lines, first);
    var fragment = doc.createDocumentFragment();
    var pending = "";
    var budget = SPAN_BUDGET;
    function add(cls, text) {
      if (!cls) {
        pending += text;
        return;
      }
      if (pending) fragment.appendChild(doc.createTextNode(pending));
      pending = "";
      var span = doc.createElement("span");
      span.className = cls;
      span.textContent = text;
      fragment.appendChild(span);
      budget--;
    }
    for (var i = first; i < last; i++) {
      var line = lines.line(i);
      if (line.length > LONG_LINE) return null;
      if (i > first) pending += "\n";
      if (insideBlock(line, block)) {
        if (line) add(budget > 0 ? "ed-s" : "", line);
        continue;
      }
      if (budget <= 0 || line.length > COLOUR_LINE) {
        add("", line);
        block = nextBlock(line, null);
        continue;
      }
      var result = tokenize(line);
      block = result.block;
      for (var j = 0; j < result.tokens.length; j++) {
        if (result.tokens[j][1]) add(result.tokens[j][0], result.tokens[j][1]);
      }
    }
    if (pending) fragment.appendChild(doc.createTextNode(pending));
    return fragment;
  }

  // --- The lines of the text: where each starts, found once per change -------------------
  function Lines(text) {
    var starts = [0];
    var i = -1;
    while ((i = text.indexOf("\n", i + 1)) !== -1) starts.push(i + 1);
    this.text = text;
    this.starts = starts;
    this.count = starts.length;
  }
  Lines.prototype.line = function (index) {
    var end = index + 1 < this.count ? this.starts[index + 1] - 1 : this.text.length;
    return this.text.slice(this.starts[index], end);
  };

  // --- The editor --------------------------------------------------------------------------
  function Editor(textarea) {
    var doc = textarea.ownerDocument;
    this.textarea = textarea;
    this.root = doc.createElement("div");
    this.root.className = "editor";
    this.gutter = doc.createElement("div");
    this.gutter.className = "editor-gutter";
    this.gutter.setAttribute("aria-hidden", "true");
    this.numbers = doc.createElement("div");
    this.numbers.className = "editor-numbers";
    this.gutter.appendChild(this.numbers);
    this.field = doc.createElement("div");
    this.field.className = "editor-field";
    this.layer = doc.createElement("div");
    this.layer.className = "editor-layer";
    this.layer.setAttribute("aria-hidden", "true");
    this.code = doc.createElement("div");
    this.code.className = "editor-code";
    this.layer.appendChild(this.code);
    textarea.parentNode.insertBefore(this.root, textarea);
    this.field.appendChild(this.layer);
    this.field.appendChild(textarea);
    this.root.appendChild(this.gutter);
    this.root.appendChild(this.field);
    textarea.setAttribute("wrap", "off");
    textarea.classList.add("editor-input");

    this.lines = null;
    this.value = null;
    this.rendered = null; // [first, last) of the lines drawn, or null
    this.marks = {}; // line number → severity of a finding from the last analysis
    this.slow = false;
    this.caretLine = -1;
    this.timer = null;
    this.frame = null;

    var self = this;
    textarea.addEventListener("input", function () {
      self.clearMarks();
      self.schedule();
    });
    // A marked number leads to its finding in the report (the report's own links are the
    // way there for keyboards and screen readers; the gutter is hidden from them).
    this.numbers.addEventListener("click", function (event) {
      var mark = event.target.closest ? event.target.closest(".mark") : null;
      var line = mark && doc.getElementById("L" + mark.textContent);
      if (line) window.location.hash = "L" + mark.textContent;
    });
    ["keyup", "mouseup", "focus"].forEach(function (name) {
      textarea.addEventListener(name, function () {
        self.followCaret();
      });
    });
    textarea.addEventListener("scroll", function () {
      self.paintSoon();
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        self.rendered = null;
        self.paintSoon();
      }).observe(textarea);
    }
    if (textarea.form) {
      textarea.form.addEventListener("reset", function () {
        setTimeout(function () {
          self.schedule();
        }, 0);
      });
    }
    window.addEventListener("pageshow", function () {
      self.schedule();
    });
    if (doc.fonts && doc.fonts.ready) {
      doc.fonts.ready.then(function () {
        self.rendered = null;
        self.paintSoon();
      });
    }
    watchValue(textarea, function () {
      self.clearMarks();
      self.schedule();
    });
    this.update();
  }

  // Scripts that set textarea.value (a dropped file, a reset) fire no input event: the
  // instance's value property passes through to the element's own and tells the editor.
  function watchValue(textarea, changed) {
    var own = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value");
    if (!own || !own.configurable) return;
    Object.defineProperty(textarea, "value", {
      configurable: true,
      enumerable: own.enumerable,
      get: function () {
        return own.get.call(this);
      },
      set: function (text) {
        own.set.call(this, text);
        changed();
      },
    });
  }

  // While updates are quick they run at once, so the next frame shows what was typed; a
  // slow one (a large text on a slow machine) makes the next ones wait for a pause in typing,
  // the textarea showing its own plain text meanwhile.
  Editor.prototype.schedule = function () {
    var self = this;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.slow) {
      this.update();
      return;
    }
    this.root.classList.add("is-stale");
    this.timer = setTimeout(function () {
      self.timer = null;
      self.update();
    }, PAUSE_MS);
  };

  Editor.prototype.update = function () {
    var started = Date.now();
    var text = this.textarea.value;
    if (text !== this.value) {
      this.value = text;
      this.lines = new Lines(text);
      this.rendered = null;
      this.root.style.setProperty("--editor-digits", String(Math.max(2, String(this.lines.count).length)));
      this.root.setAttribute("data-lines", String(this.lines.count));
    }
    if (this.textarea.ownerDocument.activeElement === this.textarea) this.followCaret();
    this.paint();
    this.root.classList.remove("is-stale");
    var took = Date.now() - started;
    this.slow = took > SLOW_MS || (this.slow && took > SLOW_MS / 2);
  };

  Editor.prototype.paintSoon = function () {
    var self = this;
    if (this.frame !== null) return;
    this.frame = window.requestAnimationFrame(function () {
      self.frame = null;
      self.paint();
    });
  };

  Editor.prototype.paint = function () {
    if (!this.lines) return;
    var textarea = this.textarea;
    var style = window.getComputedStyle(textarea);
    var lineHeight = parseFloat(style.lineHeight) || 20;
    var top = textarea.scrollTop;
    var height = textarea.clientHeight;
    var count = this.lines.count;
    var inView = Math.ceil(height / lineHeight) + 1;
    var firstInView = Math.min(count - 1, Math.max(0, Math.floor(top / lineHeight)));
    var lastInView = Math.min(count, firstInView + inView);
    var drawn = this.rendered;
    if (!drawn || firstInView < drawn[0] || lastInView > drawn[1]) {
      var first = Math.max(0, firstInView - inView);
      var last = Math.min(count, lastInView + inView);
      this.draw(first, last);
      drawn = this.rendered;
    }
    this.layer.style.width = textarea.clientWidth + "px";
    this.layer.style.height = height + "px";
    var shift = drawn[0] * lineHeight - top;
    this.code.style.transform = "translate(" + -textarea.scrollLeft + "px, " + shift + "px)";
    this.numbers.style.transform = "translateY(" + shift + "px)";
  };

  Editor.prototype.draw = function (first, last) {
    var drawing = render(this.lines, first, last, this.code.ownerDocument);
    this.root.classList.toggle("is-plain", drawing === null);
    this.code.replaceChildren();
    if (drawing) this.code.appendChild(drawing);
    this.drawNumbers(first, last);
    this.code.setAttribute("data-first", String(first));
    this.numbers.setAttribute("data-first", String(first));
    this.rendered = [first, last];
  };

  // The numbers of lines [first, last): the caret's line stands out, marked lines carry
  // their finding's severity (a class from SEVERITY_RANK, never text from the page).
  Editor.prototype.drawNumbers = function (first, last) {
    var numbers = [];
    for (var i = first; i < last; i++) {
      var classes = [];
      if (this.marks[i + 1]) classes.push("mark", "sev-" + this.marks[i + 1]);
      if (i === this.caretLine) classes.push("current");
      numbers.push(classes.length ? '<span class="' + classes.join(" ") + '">' + (i + 1) + "</span>" : String(i + 1));
    }
    this.numbers.innerHTML = numbers.join("\n");
  };

  // The caret's line: a binary search over the line starts, then only the numbers redrawn.
  Editor.prototype.followCaret = function () {
    var textarea = this.textarea;
    if (!this.lines) return;
    var offset = textarea.selectionDirection === "backward" ? textarea.selectionStart : textarea.selectionEnd;
    var starts = this.lines.starts;
    var low = 0;
    var high = starts.length - 1;
    while (low < high) {
      var middle = (low + high + 1) >> 1;
      if (starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    if (low === this.caretLine) return;
    this.caretLine = low;
    if (this.rendered) this.drawNumbers(this.rendered[0], this.rendered[1]);
  };

  // --- Findings of the last analysis, marked beside their lines -----------------------------
  var SEVERITY_RANK = { error: 3, warning: 2, info: 1, suppressed: 0 };

  Editor.prototype.setMarks = function (marks) {
    this.marks = marks;
    this.root.classList.toggle("has-marks", Object.keys(marks).length > 0);
    this.rendered = null;
    this.paint();
  };

  Editor.prototype.clearMarks = function () {
    if (Object.keys(this.marks).length) this.setMarks({});
  };

  // The report's findings, if the report is of this text: each pinned line in the listing
  // must read as the same line in the text box (not so after an upload or an edit).
  function marksFromReport(results, lines) {
    var marks = {};
    if (!results || !lines) return marks;
    var rows = results.querySelectorAll(".listing .line[data-pinned]");
    for (var i = 0; i < rows.length; i++) {
      var number = parseInt(rows[i].id.slice(1), 10);
      var code = rows[i].querySelector("code");
      if (!number || number > lines.count || !code) return {};
      if (lines.line(number - 1).indexOf(code.textContent) !== 0) return {};
    }
    var pinned = results.querySelectorAll(".listing .pinned[data-line][data-sev]");
    for (var j = 0; j < pinned.length; j++) {
      var line = parseInt(pinned[j].getAttribute("data-line"), 10);
      var severity = pinned[j].getAttribute("data-sev");
      if (!line || !(severity in SEVERITY_RANK)) continue;
      if (!marks[line] || SEVERITY_RANK[severity] > SEVERITY_RANK[marks[line]]) marks[line] = severity;
    }
    return marks;
  }

  var editors = [];

  function markFindings() {
    var results = document.getElementById("results");
    editors.forEach(function (editor) {
      editor.update();
      editor.setMarks(marksFromReport(results, editor.lines));
    });
  }

  function init() {
    document.querySelectorAll("form.analyze-form textarea[name=manifest]").forEach(function (textarea) {
      if (textarea.getAttribute("data-editor")) return;
      textarea.setAttribute("data-editor", "1");
      editors.push(new Editor(textarea));
    });
    markFindings();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "results") markFindings();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
