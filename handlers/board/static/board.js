// The board asks every few seconds whether anything changed and swaps the live part when
// it did; a form being filled in is never swapped away under the person's fingers.
(function () {
  "use strict";
  var printer = document.querySelector("[data-print]");
  if (printer) {
    printer.addEventListener("click", function () { window.print(); });
  }
  var live = document.getElementById("live");
  if (!live) { return; }
  var source = live.getAttribute("data-src");
  var seconds = parseInt(live.getAttribute("data-seconds"), 10) || 3;
  var tag = null;
  function busy() {
    var active = document.activeElement;
    if (active && live.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) {
      return true;
    }
    return live.querySelector("details[open]") !== null;
  }
  function ask() {
    if (busy()) { return schedule(); }
    var headers = tag ? { "If-None-Match": tag } : {};
    fetch(source, { credentials: "same-origin", headers: headers, cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          live.innerHTML = "";
          var p = document.createElement("p");
          p.className = "notice";
          p.setAttribute("role", "alert");
          p.textContent = live.getAttribute("data-ended");
          live.appendChild(p);
          return null;
        }
        if (response.status === 200) {
          tag = response.headers.get("ETag");
          return response.text().then(function (html) {
            if (!busy()) { live.innerHTML = html; }
            schedule();
          });
        }
        schedule();
        return null;
      })
      .catch(schedule);
  }
  function schedule() { window.setTimeout(ask, seconds * 1000); }
  schedule();
}());
