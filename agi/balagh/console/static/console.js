// The wallboard and the live list: filled from the server's event stream (/events).
// Every message is the whole state for this user, so a reconnect is a full resync.
"use strict";
(function () {
  const L = JSON.parse(document.getElementById("labels").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let state = null;
  let offset = 0; // local clock minus the server's, so ages tick right

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
    }
    return node;
  }
  function age(since) {
    if (since === null || since === undefined) return "-";
    const s = Math.max(0, Math.round(Date.now() / 1000 - offset - since));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function word(value) { return value === null || value === undefined ? "-" : (L[value] || value); }
  function percent(v) { return v === null || v === undefined ? "-" : Math.round(v * 100) + "%"; }

  // Several Asterisk nodes (`nodes:`): a one-box site's single node has no name.
  function severalNodes() { return (state.nodes || []).some((n) => n.name); }
  function downNodes() {
    return severalNodes() ? state.nodes.filter((n) => n.pbx === "down").map((n) => n.name) : [];
  }
  // A sentence of the catalogue with its {placeholders} filled by the given nodes (text
  // or elements, never markup), in the order the language puts them.
  function fill(sentence, values) {
    return sentence.split(/(\{\w+\})/).map((part) => {
      const key = part.startsWith("{") ? part.slice(1, -1) : null;
      return key !== null && key in values ? values[key] : part;
    });
  }
  function clock(since) {  // the browser's time of day of a server epoch
    const d = new Date((since + offset) * 1000);
    return [d.getHours(), d.getMinutes(), d.getSeconds()]
      .map((n) => String(n).padStart(2, "0")).join(":");
  }
  function nodeNames(names) { return el("bdi", { dir: "ltr" }, names.join(", ")); }

  // A banner per node down, naming it and since when; gone once it is read again.
  function renderNodes() {
    const box = document.getElementById("nodes-down");
    if (!box) return;
    const since = state.down_since || {};
    box.replaceChildren(...downNodes().map((name) => {
      const at = since[name] ?? state.at;
      return el("p", { class: "status down node-down", "data-node": name },
        ...fill(L.node_down, { node: el("bdi", { dir: "ltr" }, name),
                               time: el("bdi", { dir: "ltr" }, clock(at)),
                               age: el("bdi", { dir: "ltr", "data-since": String(at) },
                                       age(at)) }));
    }));
  }

  function renderStatus() {
    const box = document.getElementById("status");
    if (!box) return;
    box.textContent = state && state.pbx === "down" ? L.pbx_down : "";
    box.className = state && state.pbx === "down" ? "status down" : "status";
  }

  // A figure: its value isolated left to right (a time, a count, a percentage), an
  // optional note under it (the oldest caller in danger's reference), its name.
  function figure(name, value, id, extra, since, note) {
    const shown = el("bdi", { class: "value", dir: "ltr" }, String(value));
    if (since !== undefined && since !== null) shown.dataset.since = String(since);
    const parts = [shown];
    if (note) parts.push(el("bdi", { class: "note", dir: "ltr", title: note }, note));
    parts.push(el("span", { class: "name" }, name));
    return el("div", { class: "figure " + (extra || ""), "data-figure": id }, ...parts);
  }

  function renderQueues() {
    const box = document.getElementById("queues");
    if (!box) return;
    const live = state.pbx !== "down";  // AMI's figures are only shown while AMI is up
    // Nodes down while others answer: the live counts leave their share out, so each
    // says so ("+?") rather than pass for the whole.
    const missing = live ? downNodes() : [];
    const now = (value) => !live ? "-" : missing.length ? value + " +?" : value;
    box.replaceChildren(...state.queues.map((q) => {
      const danger = live && q.danger_waiting > 0;
      const waiting = live && q.waiting > 0;
      return el("article", { class: "queue" + (danger ? " danger" : "") + (live ? "" : " stale")
                               + (missing.length ? " partial" : ""),
                             id: "queue-" + q.name, "data-waiting": q.waiting,
                             "data-danger": q.danger_waiting },
        el("h2", { title: word(q.name) }, word(q.name)),
        live ? "" : el("p", { class: "unavailable" }, L.live_unavailable),
        missing.length ? el("p", { class: "unavailable nodes-unknown" },
          ...fill(L.node_figures_unknown, { nodes: nodeNames(missing) })) : "",
        el("div", { class: "figures" },
          figure(L.waiting, now(q.waiting), "waiting", waiting ? "hot" : ""),
          figure(L.longest, waiting ? age(q.longest_since) : "-", "longest", "",
                 waiting ? q.longest_since : null),
          figure(L.danger_waiting, now(q.danger_waiting), "danger_waiting",
                 danger ? "alarm" : ""),
          figure(L.oldest_danger, danger ? age(q.oldest_danger_since) : "-", "oldest_danger",
                 danger ? "alarm" : "", danger ? q.oldest_danger_since : null,
                 danger ? "#" + q.oldest_danger_reference
                   + (severalNodes() && q.oldest_danger_node ? " · " + q.oldest_danger_node : "")
                   : ""),
          figure(L.available, now(q.available), "available"),
          figure(L.talking, now(q.talking), "talking"),
          figure(L.paused, now(q.paused), "paused"),
          figure(L.answered_today, q.answered_today, "answered_today"),
          figure(L.abandoned_today, q.abandoned_today, "abandoned_today"),
          figure(L.service_level, percent(q.service_level_today), "service_level")));
    }));
    document.getElementById("ivr-count").textContent = state.ivr.callers;
    document.getElementById("ivr-questions").replaceChildren(
      ...Object.entries(state.ivr.by_question).map(([q, n]) =>
        el("li", {}, L.on_question + " " + word(q) + ": ", el("bdi", { dir: "ltr" }, String(n)))));
    const t = state.today;
    // Each duration isolated; their order (p50 first) follows the page's direction.
    // (the number isolated, its unit after it in the page's direction: "ث 12.5" in Arabic)
    const seconds = (v) => v === null ? el("span", { class: "duration" }, "-")
      : el("span", { class: "duration" }, el("bdi", { dir: "ltr" }, String(v)),
           " " + L.seconds_short);
    document.getElementById("to-queue").replaceChildren(
      seconds(t.to_queue_p50), " / ", seconds(t.to_queue_p95));
    document.getElementById("calls-today").replaceChildren(
      el("bdi", { dir: "ltr" }, String(t.calls)));
    const svg = document.getElementById("per-hour");
    const top = Math.max(1, ...t.per_hour);
    const ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren(...t.per_hour.map((n, h) => {
      const r = document.createElementNS(ns, "rect");
      const height = 100 * n / top;
      r.setAttribute("x", h * 20 + 2); r.setAttribute("width", 16);
      r.setAttribute("y", 105 - height); r.setAttribute("height", height);
      const title = document.createElementNS(ns, "title");
      title.textContent = h + ":00 " + n;
      r.append(title);
      return r;
    }));
  }

  function renderCalls() {
    const table = document.getElementById("calls");
    if (!table) return;
    const body = table.tBodies[0];
    const before = new Map([...body.rows].map((r) => [r.id, r]));
    const byNode = table.dataset.nodes === "1";
    const rows = state.calls.map((c) => {
      // A row whose call did not change stays the same node: a click on its button is
      // never lost to a redraw. (Ages tick in place, see the timer below.)
      const sig = JSON.stringify({ ...c, since: null });
      const old = before.get("call-" + c.reference);
      if (old && old.dataset.sig === sig) {
        const ticking = old.querySelector("[data-since]");
        if (ticking) ticking.dataset.since = String(c.since);
        return old;
      }
      const fresh = callRow(c, byNode);
      fresh.dataset.sig = sig;
      return fresh;
    });
    const columns = table.tHead.rows[0].cells.length;
    if (!rows.length) rows.push(el("tr", { class: "empty" }, el("td", { colspan: columns }, L.no_calls)));
    const same = rows.length === body.rows.length && rows.every((r, i) => r === body.rows[i]);
    if (!same) body.replaceChildren(...rows);
  }

  // byNode: the list has a node column (several nodes); a call no node could be asked
  // about (its node down) says so.
  function callRow(c, byNode) {
      const buttons = c.monitor ? ["listen", "whisper", "barge"].map((mode) =>
        el("button", { class: "monitor", "data-ref": c.reference, "data-mode": mode,
                       id: mode + "-" + c.reference }, L[mode])) : [];
      return el("tr", { id: "call-" + c.reference, "data-state": c.state,
                        class: c.danger ? "danger" : "" },
        el("td", {}, el("bdi", { dir: "ltr" }, c.reference)),
        el("td", {}, L["state_" + c.state] || c.state),
        el("td", {}, word(c.queue)),
        byNode ? el("td", { class: "node" }, c.node ? el("bdi", { dir: "ltr" }, c.node)
          : L.node_unknown) : "",
        el("td", {}, word(c.category)),
        el("td", {}, c.danger ? L.yes : L.no), el("td", {}, word(c.age)),
        el("td", {}, word(c.gender)), el("td", {}, word(c.emirate)),
        el("td", {}, el("bdi", { dir: "ltr" }, c.caller)),
        c.state === "ivr" ? el("td", {}, word(c.question))
          : el("td", {}, el("bdi", { "data-since": String(c.since), dir: "ltr" }, age(c.since))),
        el("td", {}, c.agent || "-"), el("td", {}, ...buttons));
  }

  // One row per agent: state, for how long (paused or in wrap-up: since AMI says), the
  // pause reason, their queues. Ages tick in place like the calls' (data-since).
  function renderAgents() {
    const table = document.getElementById("agents");
    if (!table) return;
    const rows = (state.agents || []).map((a) =>
      el("tr", { id: "agent-" + a.agent, "data-state": a.state },
        el("td", {}, el("bdi", {}, a.agent)),
        el("td", {}, L["agent_" + a.state] || a.state),
        el("td", {}, a.since === null ? "-"
          : el("bdi", { "data-since": String(a.since), dir: "ltr" }, age(a.since))),
        el("td", {}, a.reason ? el("bdi", {}, a.reason) : "-"),
        el("td", {}, a.queues.map(word).join(", "))));
    if (!rows.length) rows.push(el("tr", { class: "empty" }, el("td", { colspan: 5 }, L.no_agents)));
    table.tBodies[0].replaceChildren(...rows);
    const note = document.getElementById("agents-note");
    const missing = downNodes();
    note.hidden = !missing.length;
    note.replaceChildren(...(missing.length
      ? fill(L.node_agents_unknown, { nodes: nodeNames(missing) }) : []));
  }

  // The calls the app places (callbacks, satisfaction calls): one table per purpose,
  // named by the state's key; `shown` false hides the whole section (the survey off).
  function renderPlaced(key, shown, empty) {
    const table = document.getElementById(key);
    if (!table) return;
    document.getElementById(key + "-section").hidden = !shown;
    const listed = state[key];
    document.getElementById(key + "-note").textContent =
      listed === null || listed === undefined ? L[key + "_unavailable"] : "";
    const rows = (listed || []).map((c) => el("tr", { id: key + "-" + c.id },
      el("td", {}, el("bdi", { dir: "ltr" }, c.reference)), el("td", {}, word(c.queue)),
      el("td", {}, L["callback_" + c.status] || c.status), el("td", {}, String(c.attempt)),
      el("td", {}, el("bdi", { dir: "ltr" }, c.status === "pending" ? c.next_attempt_at : "-")),
      el("td", {}, c.last_outcome ? L["callback_" + c.last_outcome] || c.last_outcome : "-"),
      el("td", {}, c.status === "pending" ? el("button", { class: "cancel-placed",
        "data-key": key, "data-id": String(c.id) }, L.cancel) : "")));
    if (!rows.length) rows.push(el("tr", { class: "empty" }, el("td", { colspan: 7 }, empty)));
    table.tBodies[0].replaceChildren(...rows);
  }

  function render() {
    if (!state) return;
    renderStatus(); renderNodes(); renderQueues(); renderCalls(); renderAgents();
    renderPlaced("callbacks", true, L.no_callbacks);
    renderPlaced("survey_calls", !!state.survey_on, L.no_survey_calls);
    document.body.dataset.version = String(state.version || 0);
    document.body.dataset.at = String(state.at);  // when the server built this state
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.cancel-placed");
    if (!button) return;
    const notice = document.getElementById("notice");
    const body = new URLSearchParams({ id: button.dataset.id });
    const answer = await fetch("/" + button.dataset.key + "/cancel", { method: "POST", body,
      credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
    notice.textContent = answer.ok ? L.cancelled : L.refused + " (" + answer.status + ")";
    notice.dataset.status = String(answer.status);
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.monitor");
    if (!button) return;
    const notice = document.getElementById("notice");
    const body = new URLSearchParams({ reference: button.dataset.ref, mode: button.dataset.mode });
    const answer = await fetch("/monitor", { method: "POST", body, credentials: "same-origin",
                                             headers: { "X-CSRF-Token": csrf } });
    notice.textContent = answer.ok ? L.ringing : L.refused + " (" + answer.status + ")";
    notice.dataset.status = String(answer.status);
  });

  function connect() {
    const source = new EventSource("/events");
    source.onmessage = (message) => {
      state = JSON.parse(message.data);
      offset = Date.now() / 1000 - state.at;
      render();
    };
    source.onerror = () => {
      const box = document.getElementById("status");
      if (box) { box.textContent = "…"; box.className = "status down"; }
      if (source.readyState === EventSource.CLOSED) {
        // Refused (logged out, session expired) or the server is gone: try again, and
        // let a page load send us to the login page if that is what it takes.
        setTimeout(() => fetch("/api/state", { credentials: "same-origin" }).then((r) => {
          if (r.status === 401) location.href = "/login"; else connect();
        }).catch(() => setTimeout(connect, 1000)), 1000);
      }
    };
  }
  connect();
  // Ages tick every second without rebuilding the rows (a click is never lost to a redraw).
  setInterval(() => {
    for (const node of document.querySelectorAll("[data-since]")) {
      node.textContent = age(Number(node.dataset.since));
    }
  }, 1000);
})();
