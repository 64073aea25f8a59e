// Small progressive enhancements shared by every page. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });

  // Read Django's CSRF token for fetch() calls made by page scripts.
  window.cocreate = window.cocreate || {};
  window.cocreate.csrfToken = function () {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  };
  window.cocreate.postJSON = function (url, body, method) {
    return fetch(url, {
      method: method || "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.cocreate.csrfToken(), "Accept": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {ok: response.ok, status: response.status, data: data};
      });
    });
  };
})();
