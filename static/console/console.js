// Console helpers (loaded on every console page through UNFOLD["SCRIPTS"]).
// [data-refresh-after="N"]: the page shows a state that is about to change (an approved lead being sold):
// reload it after N seconds so staff see the outcome without pressing anything.
(function () {
  "use strict";
  function init() {
    var marker = document.querySelector("[data-refresh-after]");
    if (!marker) { return; }
    var seconds = parseInt(marker.getAttribute("data-refresh-after"), 10) || 3;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
