// Royalties pages: live progress for runs and imports (polls the API), and upload progress for sales files.
(function () {
  "use strict";

  function poll(bar) {
    var url = bar.getAttribute("data-poll");
    var fill = bar.querySelector("span");
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          fill.style.width = data.progress + "%";
          var status = document.querySelector("[data-status]");
          if (status) { status.textContent = data.status_label || data.status; status.className = "status status-" + data.status; }
          var fields = {agreements: data.agreements_done, total: data.agreements_total, posted: data.entries_posted, rows: data.rows_done};
          Object.keys(fields).forEach(function (key) {
            var node = document.querySelector("[data-" + key + "]");
            if (node && fields[key] !== undefined) { node.textContent = fields[key]; }
          });
          var error = document.querySelector("[data-error]");
          if (error && data.error) { error.textContent = data.error; error.hidden = false; }
          if (["done", "failed", "completed"].indexOf(data.status) >= 0) {
            if (data.status === "completed" || data.status === "failed") { window.location.reload(); }
            return;
          }
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    tick();
  }

  document.querySelectorAll("[data-poll]").forEach(function (bar) {
    if (bar.getAttribute("data-done") !== "1") { poll(bar); }
  });

  // Show how much of a large sales file has been sent; the server then checks every row before saving any.
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var bar = form.querySelector("[data-progress]");
      var fill = bar.querySelector("span");
      bar.hidden = false;
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { fill.style.width = Math.round(90 * e.loaded / e.total) + "%"; }
      });
      request.addEventListener("load", function () {
        fill.style.width = "100%";
        window.location.href = request.responseURL || window.location.href;
      });
      request.send(new FormData(form));
      form.querySelector("button[type=submit]").disabled = true;
    });
  });
})();
