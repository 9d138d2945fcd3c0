// pikadb dashboard: polls the node's JSON API and draws two small canvas charts.
// Plain JavaScript, no libraries and nothing loaded from outside the node.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { samples: [], lastT: 0, config: [], auth: false };

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin" }, options || {});
  opts.headers = Object.assign({ "X-Requested-With": "pikadb-dashboard" }, opts.headers || {});
  const resp = await fetch(path, opts);
  if (resp.status === 401) {
    location.href = "/login";
    throw new Error("authentication required");
  }
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error || resp.statusText);
  return body;
}

function fmtInt(n) {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function fmtUs(us) {
  if (!us) return "–";
  if (us >= 1e6) return (us / 1e6).toFixed(1) + " s";
  if (us >= 1e3) return (us / 1e3).toFixed(us >= 1e4 ? 0 : 1) + " ms";
  return "<" + us + " µs";
}

function fmtDuration(s) {
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return d + "d " + h + "h";
  if (h) return h + "h " + m + "m";
  if (m) return m + "m " + sec + "s";
  return sec + "s";
}

function text(id, value) {
  const el = $(id);
  if (el) el.textContent = value;
}

function cell(tr, value, cls) {
  const td = document.createElement("td");
  td.textContent = value;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

// --- overview -------------------------------------------------------------------------------
async function refreshOverview() {
  const o = await api("/api/overview");
  text("version", o.version);
  text("redis-version", o.redis_version);
  text("port", o.port);
  text("uptime", fmtDuration(o.uptime_seconds));
  const role = $("role");
  role.textContent = o.role;
  role.className = "badge " + o.role;
  text("ops", fmtInt(o.ops_per_sec));
  text("total-commands", fmtInt(o.total_commands_processed));
  text("keys-total", fmtInt(o.keys_total));
  text("clients", fmtInt(o.connected_clients));
  text("maxclients", fmtInt(o.maxclients));
  text("memory", o.used_memory_human);
  text("memory-rocksdb", o.used_memory_rocksdb_human);
  text("disk", o.disk_human);
  text("db-size", o.db_size_human);
  const lookups = o.keyspace_hits + o.keyspace_misses;
  text("hit-ratio", lookups ? ((100 * o.keyspace_hits) / lookups).toFixed(1) + "%" : "–");
  text("hits", fmtInt(o.keyspace_hits));
  text("misses", fmtInt(o.keyspace_misses));
  text("binlog-seq", fmtInt(o.binlog_seq));
  text("storage-error", o.storage_error ? "storage error: " + o.storage_error : "");
  $("logout").hidden = !o.auth;
  const tbody = $("keyspace");
  tbody.textContent = "";
  for (const db of o.keyspace) {
    if (!db.keys && db.db !== 0) continue;
    const tr = document.createElement("tr");
    cell(tr, "db" + db.db);
    cell(tr, fmtInt(db.keys), "num");
    cell(tr, fmtInt(db.expires), "num");
    tbody.appendChild(tr);
  }
  text("status", "updated " + new Date().toLocaleTimeString());
}

// --- charts ---------------------------------------------------------------------------------
function drawChart(canvas, samples, series, logScale) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const padL = 56, padB = 18, padT = 6, padR = 8;
  const pw = w - padL - padR, ph = h - padT - padB;
  const now = Date.now() / 1000, span = 300;
  const tx = (t) => padL + pw * (1 - (now - t) / span);
  let max = 0;
  for (const s of samples) for (const [key] of series) max = Math.max(max, s[key] || 0);
  const f = logScale ? (v) => Math.log2(Math.max(1, v)) : (v) => v;
  const top = logScale ? Math.max(4, Math.ceil(f(max))) : niceMax(max);
  const ty = (v) => padT + ph * (1 - f(v) / top);
  ctx.strokeStyle = "#263445"; ctx.fillStyle = "#8da0b3"; ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  // log scale: a line every few powers of two (exact bucket bounds); linear: quarters
  const step = logScale ? Math.max(1, Math.ceil(top / 5)) : top / 4;
  for (let v = 0; v <= top + 1e-9; v += step) {
    const y = padT + ph * (1 - v / top);
    ctx.beginPath(); ctx.moveTo(padL, y); ctx.lineTo(w - padR, y); ctx.stroke();
    const label = logScale ? fmtUs(Math.pow(2, v)).replace("<", "") : fmtInt(v);
    ctx.fillText(label, 4, y + 4);
  }
  ctx.fillText("-5 min", padL, h - 4);
  ctx.fillText("now", w - padR - 22, h - 4);
  for (const [key, color] of series) {
    ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.beginPath();
    let started = false;
    for (const s of samples) {
      if (now - s.t > span) continue;
      if (logScale && !s[key]) { started = false; continue; }  // no commands: a gap
      const x = tx(s.t), y = ty(s[key] || 0);
      if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
    }
    ctx.stroke();
  }
}

function niceMax(v) {  // a top whose quarters are round numbers
  if (v <= 8) return 8;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 4, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

async function refreshSeries() {
  const data = await api("/api/series?since=" + state.lastT);
  for (const s of data.samples) { state.samples.push(s); state.lastT = s.t; }
  const cutoff = data.now - 310;
  while (state.samples.length && state.samples[0].t < cutoff) state.samples.shift();
  const last = state.samples[state.samples.length - 1];
  if (last) { text("p99", fmtUs(last.p99)); text("p50", fmtUs(last.p50)); }
  drawChart($("chart-ops"), state.samples, [["ops", "#4fb3ff"]], false);
  drawChart($("chart-latency"), state.samples,
    [["p50", "#4cd18a"], ["p99", "#ffb547"], ["p999", "#ff6b6b"]], true);
}

// --- replication ----------------------------------------------------------------------------
async function refreshReplication() {
  const r = await api("/api/replication");
  const tbody = $("replication");
  tbody.textContent = "";
  const rows = [["role", r.role], ["master_repl_offset", fmtInt(r.master_repl_offset)],
                ["connected_slaves", r.connected_slaves]];
  if (r.role !== "master") {
    rows.push(["master", r.master_host + ":" + r.master_port],
              ["link", r.master_link_status],
              ["last io (s ago)", r.master_last_io_seconds_ago == null ? "–" : r.master_last_io_seconds_ago],
              ["sync in progress", r.master_sync_in_progress ? "yes" : "no"],
              ["applied offset", fmtInt(r.slave_repl_offset)]);
  }
  for (const [k, v] of rows) {
    const tr = document.createElement("tr");
    cell(tr, k, "dim"); cell(tr, v);
    tbody.appendChild(tr);
  }
  const reps = $("replicas");
  reps.textContent = "";
  for (const rep of r.replicas) {
    const tr = document.createElement("tr");
    cell(tr, rep.ip + ":" + rep.port);
    cell(tr, rep.state);
    cell(tr, fmtInt(rep.offset), "num");
    cell(tr, fmtInt(rep.lag_bytes), "num");
    cell(tr, rep.lag_seconds == null ? "–" : rep.lag_seconds, "num");
    reps.appendChild(tr);
  }
  if (!r.replicas.length) {
    const tr = document.createElement("tr");
    cell(tr, "none", "dim");
    reps.appendChild(tr);
  }
}

// --- slow log -------------------------------------------------------------------------------
async function refreshSlowlog() {
  const s = await api("/api/slowlog?count=50");
  text("slowlog-meta", "(" + s.length + " entries, slower than " + s.slower_than_us + " µs)");
  const tbody = $("slowlog");
  tbody.textContent = "";
  for (const e of s.entries) {
    const tr = document.createElement("tr");
    cell(tr, e.id);
    cell(tr, new Date(e.time * 1000).toLocaleTimeString());
    cell(tr, fmtInt(e.duration_us), "num");
    cell(tr, e.command.length > 160 ? e.command.slice(0, 160) + "…" : e.command);
    cell(tr, e.client + (e.client_name ? " (" + e.client_name + ")" : ""));
    tbody.appendChild(tr);
  }
}

// --- configuration --------------------------------------------------------------------------
async function loadConfig() {
  const c = await api("/api/config");
  state.config = c.settings;
  renderConfig();
}

function renderConfig() {
  const filter = ($("cfg-filter").value || "").toLowerCase();
  const tbody = $("config");
  tbody.textContent = "";
  for (const s of state.config) {
    if (filter && s.name.indexOf(filter) < 0 && s.description.toLowerCase().indexOf(filter) < 0) continue;
    const tr = document.createElement("tr");
    tr.dataset.name = s.name;
    cell(tr, s.name);
    const td = document.createElement("td");
    const td2 = document.createElement("td");
    if (s.mutable) {
      const form = document.createElement("form");
      form.className = "cfg-row";
      let input;
      if (s.choices.length) {
        input = document.createElement("select");
        for (const ch of s.choices) {
          const o = document.createElement("option");
          o.value = o.textContent = ch;
          if (ch === s.value) o.selected = true;
          input.appendChild(o);
        }
      } else {
        input = document.createElement("input");
        if (s.sensitive) { input.type = "password"; input.placeholder = s.is_set ? "(set — type to change)" : "(not set)"; }
        else input.value = s.value;
      }
      input.className = "cfg-value";
      input.name = "value";
      form.appendChild(input);
      const button = document.createElement("button");
      button.type = "submit"; button.className = "cfg-save"; button.textContent = "Set";
      const msg = document.createElement("div");
      msg.className = "msg";
      form.appendChild(msg);
      form.addEventListener("submit", (ev) => { ev.preventDefault(); saveSetting(s, input, msg); });
      button.addEventListener("click", (ev) => { ev.preventDefault(); saveSetting(s, input, msg); });
      td.appendChild(form);
      td2.appendChild(button);
    } else {
      td.textContent = s.sensitive ? (s.is_set ? "(set)" : "") : s.value;
      td.className = "dim";
    }
    tr.appendChild(td);
    tr.appendChild(td2);
    cell(tr, s.description, "dim");
    tbody.appendChild(tr);
  }
}

async function saveSetting(s, input, msg) {
  msg.className = "msg"; msg.textContent = "saving…";
  const body = {}; body[s.name] = input.value;
  try {
    const r = await api("/api/config", { method: "POST", body: JSON.stringify(body),
                                        headers: { "Content-Type": "application/json" } });
    const value = r.applied[s.name];
    if (!s.sensitive) { s.value = value; input.value = value; }
    else { s.is_set = input.value !== ""; input.value = ""; }
    msg.className = "msg ok"; msg.textContent = "saved: " + (s.sensitive ? "(hidden)" : value);
  } catch (err) {
    msg.className = "msg err"; msg.textContent = err.message;
  }
}

// --- polling --------------------------------------------------------------------------------
function every(ms, fn) {
  const run = () => fn().catch((e) => text("status", "error: " + e.message));
  run();
  setInterval(run, ms);
}

$("cfg-filter").addEventListener("input", renderConfig);
every(1000, refreshOverview);
every(1000, refreshSeries);
every(2000, refreshReplication);
every(5000, refreshSlowlog);
loadConfig().catch((e) => text("status", "error: " + e.message));
