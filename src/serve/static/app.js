// claimsweep workspace: a little progressive enhancement; every page works without it.
(function () {
  "use strict";
  // "Select page": ticks every case box of the inbox for a bulk action.
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("click", function () {
      var boxes = document.querySelectorAll("input[type=checkbox][name=ids]");
      var tick = Array.prototype.some.call(boxes, function (b) { return !b.checked; });
      Array.prototype.forEach.call(boxes, function (b) { b.checked = tick; });
    });
  }
  // Irreversible-looking actions ask once before they are sent.
  Array.prototype.forEach.call(document.querySelectorAll("form#bulk, form#apply-form"), function (f) {
    f.addEventListener("submit", function (e) {
      if (f.dataset.confirmed === "1") { return; }
      var n = f.id === "bulk" ? document.querySelectorAll("input[name=ids]:checked").length : -1;
      if (n === 0) { e.preventDefault(); window.alert(document.documentElement.lang === "en" ? "Select cases first." : "请先选择案件。"); }
    });
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
