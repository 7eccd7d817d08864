/* Kesu workspace behaviour. No inline scripts anywhere (a Content Security Policy can forbid them);
   everything here also works on content htmx swaps in. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // ---------------------------------------------------------------- live countdowns
  var words = null;
  function w() {
    if (!words) {
      var el = document.getElementById("kesu-words");
      words = el ? JSON.parse(el.textContent) : {overdue: "已超时 %(span)s", left: "剩余 %(span)s",
        dh: "%(d)d天%(h)d小时", hm: "%(h)d小时%(m)d分", m: "%(m)d分"};
    }
    return words;
  }
  function fill(t, v) { return t.replace(/%\((\w)\)d/g, function (_, k) { return v[k]; }).replace("%(span)s", v.span); }
  function text(seconds) {
    var over = seconds < 0, s = Math.abs(seconds);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var span;
    if (d) span = fill(w().dh, {d: d, h: h});
    else if (h) span = fill(w().hm, {h: h, m: m});
    else span = fill(w().m, {m: Math.max(m, 1)});
    return fill(over ? w().overdue : w().left, {span: span});
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-due]").forEach(function (t) {
      var due = Date.parse(t.getAttribute("data-due"));
      if (isNaN(due)) return;
      var left = Math.round((due - now) / 1000);
      t.textContent = text(left);
      var box = t.closest(".due");
      if (box) {
        var state = left < 0 ? "overdue" : (left < 3600 ? "soon" : "ok");
        box.classList.remove("due--overdue", "due--soon", "due--ok");
        box.classList.add("due--" + state);
      }
    });
  }
  setInterval(tick, 30000);

  // ---------------------------------------------------------------- small behaviours
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("select[data-autosubmit]")) {
      var form = t.form;
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }
    if (t.matches("[data-dispatch-department]")) filterHandlers(t.form);
    if (t.name === "satisfaction") toggleRectify(t.form);
    if (t.name === "answer_mode") toggleAnswer(t.form);
    if (t.matches("[data-history]")) refreshHistory();
    if (t.matches("[data-received], [data-severity], [data-major], #intake-form [name=office]")) defaultCommitted(t.form);
    if (t.matches("[data-committed]")) t.dataset.touched = "1";
    if (t.matches("[data-camera]")) addFiles(t.files, t.form);
    if (t.matches("#intake-files")) listFiles(t.form);
  });
  // resolve: the words told to the complainant follow the resolution until the handler edits them
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t.matches("[data-told-words]")) { t.dataset.touched = "1"; return; }
    if (t.name === "resolution" && t.form) {
      var told = t.form.querySelector("[data-told-words]");
      if (told && !told.dataset.touched) told.value = t.value;
    }
  });
  document.addEventListener("click", function (e) {
    var p = e.target.closest("[data-print]");
    if (p) { window.print(); return; }
    var hit = e.target.closest("[data-pick]");
    if (hit) { pick(hit); return; }
    if (e.target.closest("[data-unpick]")) unpick(e.target.closest("form"));
  });
  // A dangerous action asks once. This capture listener runs before htmx's own submit handler on the
  // form: "no" stops the event there, so htmx never sends; "yes" lets htmx (or the browser) send it.
  // (No htmx:confirm handler as well: the same submit would ask a second time.)
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);

  // the list: a search (the 查询 button or Enter) folds the filter panel, so the results start on the
  // first screen; its summary line (sent with the results) names the filters and opens it again.
  // Ticking a box inside the open panel updates the results without folding it.
  document.addEventListener("submit", function (e) {
    if (e.target.id !== "filters") return;
    var more = document.getElementById("filters-more");
    if (more) more.open = false;
  });

  // look-up box: Enter picks the first result instead of sending the half-filled form;
  // the arrow keys move between the results
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t.id === "find") {
      var first = document.querySelector("#find-results [data-pick]");
      if (e.key === "Enter") { e.preventDefault(); if (first) pick(first); }
      else if (e.key === "ArrowDown" && first) { e.preventDefault(); first.focus(); }
    } else if (t.matches && t.matches("#find-results [data-pick]") && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      var hits = Array.prototype.slice.call(document.querySelectorAll("#find-results [data-pick]"));
      var i = hits.indexOf(t) + (e.key === "ArrowDown" ? 1 : -1);
      if (i < 0) document.getElementById("find").focus(); else if (hits[i]) hits[i].focus();
    }
  });

  // dispatch: show only the chosen department's handlers
  function filterHandlers(form) {
    if (!form) return;
    var dept = form.querySelector("[data-dispatch-department]"), sel = form.querySelector("[data-dispatch-handler]");
    if (!dept || !sel) return;
    sel.querySelectorAll("optgroup").forEach(function (g) {
      var on = !dept.value || g.getAttribute("data-dept") === dept.value;
      g.hidden = !on; g.disabled = !on;
    });
    var opt = sel.options[sel.selectedIndex];
    if (opt && opt.parentNode.disabled) sel.value = "";
  }
  // callback: the rectification fields matter only when not satisfied
  function toggleRectify(form) {
    if (!form) return;
    var box = form.querySelector("[data-show-when-dissatisfied]");
    if (!box) return;
    var checked = form.querySelector("input[name=satisfaction]:checked");
    box.hidden = !(checked && checked.value === "dissatisfied");
  }
  // intake: on-the-spot answer or committed time
  function toggleAnswer(form) {
    if (!form) return;
    var checked = form.querySelector("input[name=answer_mode]:checked");
    var mode = checked ? checked.value : "committed";
    form.querySelectorAll("[data-when-answer]").forEach(function (el) { el.hidden = el.getAttribute("data-when-answer") !== mode; });
  }
  // The committed answer time is the server's rule (kesu.complaints.deadlines): ask it, unless the
  // clerk has typed a time of their own.
  function defaultCommitted(form) {
    if (!form || !form.dataset.promiseUrl) return;
    var out = form.querySelector("[data-committed]");
    if (!out || out.dataset.touched) return;
    var office = form.querySelector("[name=office]"), sev = form.querySelector("[data-severity]"), major = form.querySelector("[data-major]");
    var received = form.querySelector("[data-received]");
    if (!received || !received.value) return;
    var query = new URLSearchParams({
      office: office ? office.value : "",
      severity: sev ? sev.value : "",
      is_major: major && major.checked ? "1" : "",
      received_at: received.value
    });
    fetch(form.dataset.promiseUrl + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.committed_answer_at && !out.dataset.touched) out.value = data.committed_answer_at; })
      .catch(function () {});
  }
  // intake: choose a resident / home from the look-up
  function pick(hit) {
    var form = hit.closest("form");
    var set = function (name, value) { var el = form.querySelector("[name=" + name + "]"); if (el) el.value = value; return el; };
    var office = form.querySelector("[name=office]");
    if (office && hit.dataset.office) office.value = hit.dataset.office;
    set("resident", hit.dataset.resident || "");
    set("unit", hit.dataset.unit || "");
    var name = form.querySelector("[name=complainant_name]");
    if (name && hit.dataset.name) name.value = hit.dataset.name;
    var phone = form.querySelector("[name=phone]");
    if (phone) phone.placeholder = hit.dataset.phoneMask ? (hit.dataset.phoneMask + " ✓") : "";
    var box = form.querySelector("#picked");
    if (box) {
      box.hidden = false;
      box.querySelector("[data-picked-text]").textContent = [hit.dataset.unit, hit.dataset.name, hit.dataset.phoneMask].filter(Boolean).join(" · ");
    }
    var results = form.querySelector("#find-results"); if (results) results.innerHTML = "";
    var find = form.querySelector("#find"); if (find) find.value = "";
    refreshHistory();
    var content = form.querySelector("[name=content]"); if (content) content.focus();
  }
  function unpick(form) {
    ["resident", "unit", "complainant_name"].forEach(function (n) { var el = form.querySelector("[name=" + n + "]"); if (el) el.value = ""; });
    var phone = form.querySelector("[name=phone]"); if (phone) phone.placeholder = "";
    var box = form.querySelector("#picked"); if (box) box.hidden = true;
    refreshHistory();
    var find = form.querySelector("#find"); if (find) find.focus();
  }
  function refreshHistory() {
    var h = document.getElementById("history");
    if (h && window.htmx) window.htmx.trigger(h, "refresh");
  }
  // the recent-complaints look-up is a GET: its opening words are enough to compare, and keep the
  // address short (saving compares the whole text again)
  document.addEventListener("htmx:configRequest", function (e) {
    var p = e.detail.parameters;
    if (e.detail.elt && e.detail.elt.id === "history" && p && typeof p.content === "string") {
      p.content = p.content.slice(0, 200);
    }
  });
  // intake: drag and drop, and the phone camera, add to the one file list that is sent
  function addFiles(files, form) {
    var input = form && form.querySelector("#intake-files");
    if (!input || !files || !files.length || typeof DataTransfer === "undefined") return;
    var dt = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
    Array.prototype.forEach.call(files, function (f) { dt.items.add(f); });
    input.files = dt.files;
    listFiles(form);
  }
  function listFiles(form) {
    var input = form.querySelector("#intake-files"), list = form.querySelector("[data-dropped]");
    if (input && !input.files) return;
    if (!input || !list) return;
    list.innerHTML = "";
    Array.prototype.forEach.call(input.files, function (f) {
      var li = document.createElement("li");
      li.textContent = "📎 " + f.name + " (" + Math.max(1, Math.round(f.size / 1024)) + " KB)";
      list.appendChild(li);
    });
  }
  document.addEventListener("dragover", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) { e.preventDefault(); zone.classList.add("is-over"); }
  });
  document.addEventListener("dragleave", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (zone) zone.classList.remove("is-over");
  });
  document.addEventListener("drop", function (e) {
    var zone = e.target.closest && e.target.closest("[data-dropzone]");
    if (!zone) return;
    e.preventDefault(); zone.classList.remove("is-over");
    addFiles(e.dataTransfer.files, zone.closest("form"));
  });

  // a half-typed complaint is not lost by an accidental click away
  var dirty = false;
  document.addEventListener("input", function (e) { if (e.target.closest("[data-dirty-guard]") && e.target.id !== "find") dirty = true; });
  window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  document.addEventListener("htmx:beforeRequest", function (e) { if (e.detail.elt && e.detail.elt.id === "intake-form") dirty = false; });
  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.elt && e.detail.elt.id === "intake-form" && !e.detail.successful) dirty = true;
  });
  document.addEventListener("submit", function (e) { if (e.target.matches("[data-dirty-guard]")) dirty = false; });

  // intake draft: kept in this browser tab until the complaint is saved, so a page closed by
  // accident or a sign-in that expired mid-call does not lose what the caller said
  var DRAFT = "kesu-intake-draft";
  function storage() { try { return window.sessionStorage; } catch (e) { return null; } }
  function saveDraft(form) {
    var st = storage(); if (!st) return;
    var data = {};
    form.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (!el.name || el.type === "file" || el.name === "csrfmiddlewaretoken" || el.name === "find") return;
      if (el.type === "radio" || el.type === "checkbox") { if (el.checked) data[el.name] = el.value; return; }
      data[el.name] = el.value;
    });
    var picked = form.querySelector("[data-picked-text]");
    if (picked && !form.querySelector("#picked").hidden) data._picked = picked.textContent;
    st.setItem(DRAFT, JSON.stringify(data));
  }
  function restoreDraft(form, data) {
    form.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (!el.name || !(el.name in data) || el.type === "file" || el.name === "csrfmiddlewaretoken") return;
      if (el.type === "radio") el.checked = el.value === data[el.name];
      else if (el.type === "checkbox") el.checked = true;
      else el.value = data[el.name];
    });
    form.querySelectorAll("input[type=checkbox]").forEach(function (el) { if (!(el.name in data)) el.checked = false; });
    if (data._picked) { var box = form.querySelector("#picked"); box.hidden = false; box.querySelector("[data-picked-text]").textContent = data._picked; }
    var committed = form.querySelector("[data-committed]"); if (committed) committed.dataset.touched = "1";
    toggleAnswer(form); refreshHistory();
  }
  function offerDraft(root) {
    var form = root.querySelector && root.querySelector("#intake-form");
    var st = storage();
    if (!form || !st || form.querySelector(".form-errors")) return;
    var raw = st.getItem(DRAFT); if (!raw) return;
    var data; try { data = JSON.parse(raw); } catch (e) { return; }
    if (!data.content && !data.complainant_name && !data.phone) return;
    var banner = form.querySelector("[data-draft-banner]"); if (!banner) return;
    banner.hidden = false;
    banner.querySelector("[data-draft-restore]").addEventListener("click", function () { restoreDraft(form, data); banner.hidden = true; });
    banner.querySelector("[data-draft-discard]").addEventListener("click", function () { st.removeItem(DRAFT); banner.hidden = true; });
  }
  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("#intake-form");
    if (form && e.target.id !== "find") saveDraft(form);
  });
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("#intake-form");
    if (form) saveDraft(form);
  });

  // ---------------------------------------------------------------- after every load or swap
  function init(root) {
    var forms = Array.prototype.slice.call(root.querySelectorAll("form"));
    if (root.matches && root.matches("form")) forms.push(root);  // htmx swapped the form itself
    forms.forEach(function (f) { filterHandlers(f); toggleRectify(f); toggleAnswer(f); listFiles(f); });
    // after a failed submit, put the cursor on the first field to fix
    var bad = root.querySelector("[aria-invalid=true]");
    if (bad && root !== document) bad.focus();
    else {
      var alert = root.querySelector && root.querySelector(".form-errors[tabindex], .flash");
      if (alert && root !== document) alert.focus();
    }
    tick();
  }
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    // a registered complaint's receipt: its draft is done with
    if (document.querySelector(".readout") && storage()) storage().removeItem(DRAFT);
    offerDraft(document);
  });
  document.addEventListener("htmx:load", function (e) { if (e.detail.elt !== document.body) init(e.detail.elt); });
})();
