// Ideas pages: support without reloading, product-manager actions, similar-idea suggestions while typing.
(function () {
  "use strict";
  var cc = window.cocreate;

  function showError(el, data) {
    if (!el) { return; }
    el.textContent = (data && (data.detail || JSON.stringify(data))) || "Error";
    el.hidden = false;
  }

  // Support / withdraw through the API; the count comes back from the server.
  var box = document.querySelector("[data-support-url]");
  if (box) {
    var button = box.querySelector("[data-testid=support-button]");
    var count = box.querySelector("[data-testid=supporters]");
    var error = box.querySelector("[data-testid=support-error]");
    var options = box.querySelector(".support-options");
    var progress = box.querySelector("progress");
    if (button) {
      button.addEventListener("click", function () {
        var supported = box.getAttribute("data-supported") === "1";
        var body;
        if (!supported) {
          var quantity = box.querySelector("#support-quantity").value;
          var wouldBuy = box.querySelector("#support-would-buy").checked;
          body = {importance: box.querySelector("#support-importance").value};
          if (wouldBuy) { body.would_buy = true; }
          if (quantity) { body.quantity = parseInt(quantity, 10); body.would_buy = true; }
        }
        button.disabled = true;
        error.hidden = true;
        cc.postJSON(box.getAttribute("data-support-url"), body, supported ? "DELETE" : "POST").then(function (result) {
          button.disabled = false;
          if (!result.ok) { showError(error, result.data); return; }
          count.textContent = Number(result.data.supporters).toLocaleString();
          if (progress) { progress.value = result.data.supporters; }
          box.setAttribute("data-supported", result.data.supported ? "1" : "0");
          button.textContent = button.getAttribute(result.data.supported ? "data-label-withdraw" : "data-label-support");
          if (options) { options.hidden = result.data.supported; }
          // Supporting also follows the idea (the server did it); show that without a reload.
          var follow = box.querySelector("[data-testid=follow-button]");
          if (follow && result.data.supported) {
            follow.textContent = follow.getAttribute("data-label-unfollow");
            follow.form.querySelector("input[name=follow]").value = "0";
          }
        }).catch(function () { button.disabled = false; showError(error, {detail: window.gettext ? window.gettext("Network error") : "Network error"}); });
      });
    }
  }

  // Product-manager panel: moderation and status moves through the API, then reload to show the new state.
  var panel = document.querySelector("[data-moderate-url]");
  if (panel) {
    var pmError = panel.querySelector("[data-testid=pm-error]");
    panel.querySelectorAll("[data-decision]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var reason = panel.querySelector("#moderate-reason");
        cc.postJSON(panel.getAttribute("data-moderate-url"), {
          decision: btn.getAttribute("data-decision"), reason: reason ? reason.value : ""
        }).then(function (result) {
          if (result.ok) { window.location.reload(); } else { showError(pmError, result.data); }
        });
      });
    });
    var statusForm = panel.querySelector(".status-form");
    if (statusForm) {
      statusForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var codes = statusForm.product_codes.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        var body = {status: statusForm.status.value, reason: statusForm.reason.value, product_codes: codes};
        if (statusForm.launch_date.value) { body.launch_date = statusForm.launch_date.value; }
        cc.postJSON(panel.getAttribute("data-status-url"), body).then(function (result) {
          if (result.ok) { window.location.reload(); } else { showError(pmError, result.data); }
        });
      });
    }
  }

  // Similar ideas while typing the title or summary (debounced, search-backed).
  var form = document.querySelector("form[data-similar-url]");
  if (form) {
    var panelSimilar = document.querySelector("[data-testid=similar-ideas]");
    var list = panelSimilar.querySelector(".similar-list");
    var timer = null;
    var last = "";
    var lookup = function () {
      var text = ((form.title && form.title.value) || "") + " " + ((form.summary && form.summary.value) || "");
      text = text.trim();
      if (text.length < 3 || text === last) { return; }
      last = text;
      var url = form.getAttribute("data-similar-url") + "?campaign=" + encodeURIComponent(form.getAttribute("data-campaign")) +
        "&q=" + encodeURIComponent(text.slice(0, 200));
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          list.textContent = "";
          (data.results || []).forEach(function (idea) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = idea.url;
            a.target = "_blank";
            a.rel = "noopener";
            a.textContent = idea.title;
            var meta = document.createElement("span");
            meta.className = "meta";
            meta.textContent = " · " + idea.supporters + " " + (panelSimilar.getAttribute("data-supporters-label") || "") +
              " · " + idea.status;
            li.appendChild(a);
            li.appendChild(meta);
            list.appendChild(li);
          });
          panelSimilar.hidden = !(data.results && data.results.length);
        }).catch(function () { /* suggestions are optional */ });
    };
    ["title", "summary"].forEach(function (name) {
      if (form[name]) {
        form[name].addEventListener("input", function () {
          clearTimeout(timer);
          timer = setTimeout(lookup, 300);
        });
      }
    });
    // Text typed before this script ran (a slow connection, or the browser restoring the form) is looked up too.
    lookup();
  }
})();
