// The review queue's keyboard: j/k move, a approves, r opens the reason (Enter rejects), x selects for bulk.
(function () {
  "use strict";
  function init() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#queue-table tr[data-row]"));
    var bulk = document.getElementById("bulk-form");
    var current = -1;
    function select(index) {
      if (!rows.length) { return; }
      index = Math.max(0, Math.min(rows.length - 1, index));
      rows.forEach(function (row, i) { row.classList.toggle("hl-current", i === index); row.setAttribute("aria-selected", i === index ? "true" : "false"); });
      current = index;
      rows[index].focus({preventScroll: false});
    }
    function countSelected() {
      var n = document.querySelectorAll(".hl-select-row:checked").length;
      var label = document.querySelector("[data-testid='selected-count']");
      if (label) { label.textContent = n + " selected"; }
    }
    document.querySelectorAll(".hl-select-row").forEach(function (box) { box.addEventListener("change", countSelected); });
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll(".hl-select-row").forEach(function (box) { box.checked = all.checked; });
        countSelected();
      });
    }
    rows.forEach(function (row, i) { row.addEventListener("click", function () { current = i; rows.forEach(function (r, j) { r.classList.toggle("hl-current", j === i); }); }); });
    if (bulk) {
      bulk.addEventListener("submit", function (event) {
        var submitter = event.submitter;
        if (!document.querySelectorAll(".hl-select-row:checked").length) { event.preventDefault(); alert("Select at least one lead (x or the checkboxes)."); return; }
        if (submitter && submitter.value === "reject" && !document.getElementById("bulk-reason").value) {
          event.preventDefault(); document.getElementById("bulk-reason").focus();
        }
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "select" && event.key === "Enter" && event.target.value && event.target.form && event.target.form.hasAttribute("data-reject")) {
        event.preventDefault(); event.target.form.requestSubmit(); return;
      }
      if (tag === "input" || tag === "select" || tag === "textarea" || event.target.isContentEditable) {
        if (event.key === "Escape" && current >= 0) { rows[current].focus(); }
        return;
      }
      if (event.key === "j") { event.preventDefault(); select(current + 1); }
      else if (event.key === "k") { event.preventDefault(); select(current < 0 ? 0 : current - 1); }
      else if (event.key === "a" && current >= 0) { event.preventDefault(); rows[current].querySelector("form[data-approve]").requestSubmit(); }
      else if (event.key === "r" && current >= 0) { event.preventDefault(); rows[current].querySelector("form[data-reject] select").focus(); }
      else if (event.key === "x" && current >= 0) {
        event.preventDefault();
        var box = rows[current].querySelector(".hl-select-row"); box.checked = !box.checked; countSelected();
      }
    });
    if (rows.length) { select(0); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
