// On load: what the browser actually laid out, as data- attributes on <body>, so a headless
// browser's --dump-dom proves the page rendered (and an eye can check it in devtools).
(function () {
  var b = document.body, ops = document.querySelectorAll("svg.timeline rect.op");
  var bad = document.querySelectorAll("svg.timeline rect.op.violating");
  var w = function (el) { return el ? String(Math.round(el.getBoundingClientRect().width)) : "0"; };
  b.dataset.rendered = String(ops.length);
  b.dataset.violating = String(bad.length);
  b.dataset.matrixWidth = w(document.getElementById("matrix"));
  b.dataset.timelineWidth = w(document.querySelector("svg.timeline"));
  b.dataset.opWidth = w(ops[0]);
  b.dataset.violatingStroke = bad.length ? getComputedStyle(bad[0]).stroke : "";
})();
