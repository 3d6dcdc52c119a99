/* The workbench's map frame: the page sends the layers of a job's map.html (its #plan-data JSON) by
   postMessage; they are drawn by the same script as map.html (/static/webmap/app.js). */
(function () {
  "use strict";
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin || typeof event.data !== "object" || !event.data.planData) { return; }
    document.getElementById("plan-data").textContent = event.data.planData;
    var script = document.createElement("script");
    script.src = "/static/webmap/app.js";
    script.onload = function () { document.body.dataset.ready = "1"; };
    document.body.appendChild(script);
  });
  window.parent.postMessage({mapFrame: "ready"}, window.location.origin);
})();
