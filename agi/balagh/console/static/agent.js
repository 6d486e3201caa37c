// An agent's page: ask every second which calls are at the desk; when that changes (a
// call rings, is answered, ends), load the page again: the server renders the report.
// A note being typed is kept in this tab's sessionStorage across those reloads.
"use strict";
(function () {
  const section = document.getElementById("agent");
  if (!section) { return; }
  const shown = section.dataset.desk;
  const form = document.getElementById("disposition-form");
  if (form) {
    const note = document.getElementById("note");
    const key = "balagh-note-" + form.elements.call_id.value;
    if (!note.value && window.sessionStorage.getItem(key)) {
      note.value = window.sessionStorage.getItem(key);
    }
    note.addEventListener("input", function () { window.sessionStorage.setItem(key, note.value); });
    form.addEventListener("submit", function () { window.sessionStorage.removeItem(key); });
  }
  async function look() {
    try {
      const answer = await fetch("/agent/state", { credentials: "same-origin", cache: "no-store" });
      if (answer.status === 401) { window.location = "/login"; return; }
      const state = await answer.json();
      if (state.desk !== shown) { window.location.replace("/agent"); return; }
    } catch (e) { /* the console restarting: ask again */ }
    window.setTimeout(look, 1000);
  }
  window.setTimeout(look, 1000);
}());
