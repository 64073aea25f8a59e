// The agenda item's idea picker in Wagtail admin: a title search that adds matching ideas as checkboxes.
// Plain JavaScript; the words it shows come translated in the widget's data- attributes.
(function () {
  "use strict";

  function setUp(picker) {
    var input = picker.querySelector("[data-idea-search]");
    var box = picker.querySelector("[data-idea-results]");
    var list = picker.querySelector("[data-idea-results-list]");
    var name = picker.getAttribute("data-name");
    var timer = null;

    function checkedIds() {
      var ids = {};
      picker.querySelectorAll('input[type="checkbox"][name="' + name + '"]:checked').forEach(function (box) {
        ids[box.value] = true;
      });
      return ids;
    }

    function line(text) {
      var p = document.createElement("p");
      p.className = "help";
      p.textContent = text;
      return p;
    }

    function show(results) {
      var chosen = checkedIds();
      list.textContent = "";
      if (!results.length) { list.appendChild(line(picker.getAttribute("data-empty"))); }
      results.forEach(function (idea) {
        var label = document.createElement("label");
        label.className = "idea-picker-choice";
        var check = document.createElement("input");
        check.type = "checkbox";
        check.name = name;
        check.value = String(idea.id);
        check.checked = Boolean(chosen[check.value]);
        var hint = document.createElement("span");
        hint.className = "help";
        hint.textContent = " (" + idea.supporters + " " + picker.getAttribute("data-supporters") + ")";
        label.appendChild(check);
        label.appendChild(document.createTextNode(" " + idea.title));
        label.appendChild(hint);
        list.appendChild(label);
        list.appendChild(document.createElement("br"));
      });
      box.hidden = false;
    }

    function search() {
      var words = input.value.trim();
      if (words.length < 2) { box.hidden = true; list.textContent = ""; return; }
      var url = picker.getAttribute("data-search-url") + "?q=" + encodeURIComponent(words) + "&ordering=-supporters";
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
        .then(function (data) { show(data.results || []); })
        .catch(function () { list.textContent = ""; list.appendChild(line(picker.getAttribute("data-failed"))); box.hidden = false; });
    }

    // A search may list an idea that a suggestion list shows too: both checkboxes must agree.
    picker.addEventListener("change", function (event) {
      var check = event.target;
      if (check.name !== name) { return; }
      picker.querySelectorAll('input[name="' + name + '"][value="' + check.value + '"]').forEach(function (other) {
        other.checked = check.checked;
      });
    });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
    input.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); search(); } });
  }

  function start() { document.querySelectorAll("[data-idea-picker]").forEach(setUp); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
