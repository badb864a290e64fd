// The map viewer: the live map drawn by the server (inline SVG), zoom, filters, and a side
// panel with one step's measures, contact reasons, verbatims, pain-point evidence and comments.
import { t, api, el, clear, append, num, pct, duration, message } from "./app.js";

const page = document.getElementById("map-page");
const mapId = page.dataset.mapId;
const canEdit = page.dataset.canEdit === "true";
const steps = JSON.parse(document.getElementById("map-steps").textContent);
const byId = new Map(steps.map((s) => [s.id, s]));

const canvas = document.getElementById("canvas");
const statusLine = document.getElementById("map-status");
const filters = document.getElementById("filters");
const filterError = document.getElementById("filter-error");
const panel = document.getElementById("step-panel");
const panelTitle = document.getElementById("panel-title");
const panelBody = document.getElementById("panel-body");
const zoomLevel = document.getElementById("zoom-level");
const filtersBox = document.getElementById("filters-box");

let live = null; // the /live answer for the current filters, or null without data
let comments = null;
let svg = null;
let natural = { width: 1, height: 1 };
let scale = 1;
let selected = null;
let lastTrigger = null;

const mapUrl = `/api/maps/${encodeURIComponent(mapId)}`;

function scopeQuery() {
  const params = new URLSearchParams();
  const data = new FormData(filters);
  const segment = String(data.get("segment") || "").trim();
  if (segment) params.set("segment", segment);
  for (const channel of data.getAll("channel")) params.append("channel", String(channel));
  for (const name of ["since", "until"]) {
    const value = String(data.get(name) || "");
    if (value) params.set(name, value);
  }
  return params;
}

// -- drawing ---------------------------------------------------------------------------------
function sanitize(root) {
  // The server escapes all customer text; this is defence in depth against active content.
  for (const bad of root.querySelectorAll("script, foreignObject, iframe")) bad.remove();
  for (const node of [root, ...root.querySelectorAll("*")]) {
    for (const attr of [...node.attributes]) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith("on")) node.removeAttribute(attr.name);
      else if ((name === "href" || name === "xlink:href") && !value.startsWith("#") && !value.startsWith("data:image/"))
        node.removeAttribute(attr.name);
    }
  }
}

function showSvg(text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = parsed.documentElement;
  if (root.nodeName !== "svg" || parsed.querySelector("parsererror")) throw new Error(t("map.error"));
  sanitize(root);
  const node = document.importNode(root, true);
  const box = (node.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  natural = box.length === 4 ? { width: box[2], height: box[3] } : { width: 1200, height: 800 };
  node.removeAttribute("width");
  node.removeAttribute("height");
  node.classList.add("journey-svg");
  addColumns(node);
  clear(canvas).append(node);
  svg = node;
  if (selected) highlight(selected);
}

/** Clickable step columns over the drawing: the action cards give one column per step, in
 * reading order (right to left on a right-to-left map). */
function addColumns(node) {
  const cards = [...node.querySelectorAll('rect[rx="7"]')];
  if (!cards.length) return;
  const top = Math.min(...cards.map((c) => Number(c.getAttribute("y"))));
  const row = cards.filter((c) => Number(c.getAttribute("y")) === top);
  if (row.length !== steps.length) return;
  row.sort((a, b) => Number(a.getAttribute("x")) - Number(b.getAttribute("x")));
  if ((node.getAttribute("direction") || "ltr") === "rtl") row.reverse();
  const ns = "http://www.w3.org/2000/svg";
  const layer = document.createElementNS(ns, "g");
  layer.setAttribute("class", "step-columns");
  const y = Math.max(0, top - 72);
  row.forEach((card, i) => {
    const step = steps[i];
    const hit = document.createElementNS(ns, "rect");
    hit.setAttribute("x", String(Number(card.getAttribute("x")) - 9));
    hit.setAttribute("y", String(y));
    hit.setAttribute("width", String(Number(card.getAttribute("width")) + 18));
    hit.setAttribute("height", String(natural.height - y - 8));
    hit.setAttribute("rx", "10");
    hit.setAttribute("class", "step-hit");
    hit.dataset.step = step.id;
    const title = document.createElementNS(ns, "title");
    title.textContent = step.action;
    hit.append(title);
    hit.addEventListener("click", () => openStep(step.id, null));
    layer.append(hit);
  });
  node.append(layer);
}

function applyScale() {
  if (!svg) return;
  svg.style.width = `${Math.round(natural.width * scale)}px`;
  svg.style.height = `${Math.round(natural.height * scale)}px`;
  zoomLevel.textContent = `${Math.round(scale * 100)}%`;
}

const phone = window.matchMedia("(max-width: 900px)");

function fit() {
  const width = canvas.clientWidth - 4;
  scale = Math.max(0.05, Math.min(2, width / natural.width));
  applyScale();
}

/** The first view: the whole width on a desktop; on a phone, readable and scrolled sideways. */
function firstView() {
  fit();
  if (phone.matches && scale < 0.3) {
    scale = 0.3;
    applyScale();
  }
}

function zoom(factor) {
  const centre = (canvas.scrollLeft + canvas.clientWidth / 2) / (natural.width * scale);
  scale = Math.max(0.05, Math.min(3, scale * factor));
  applyScale();
  canvas.scrollLeft = centre * natural.width * scale - canvas.clientWidth / 2;
}

document.getElementById("zoom-in").addEventListener("click", () => zoom(1.25));
document.getElementById("zoom-out").addEventListener("click", () => zoom(0.8));
document.getElementById("zoom-fit").addEventListener("click", fit);
document.getElementById("zoom-actual").addEventListener("click", () => {
  scale = 1;
  applyScale();
});
canvas.addEventListener("keydown", (event) => {
  if (event.key === "+" || event.key === "=") zoom(1.25);
  else if (event.key === "-") zoom(0.8);
  else if (event.key === "0") fit();
  else return;
  event.preventDefault();
});

async function load() {
  statusLine.textContent = t("map.loading");
  canvas.setAttribute("aria-busy", "true");
  filterError.hidden = true;
  const query = scopeQuery().toString();
  const suffix = query ? `&${query}` : "";
  const firstDraw = svg === null;
  try {
    const text = await api("GET", `${mapUrl}/svg?live=true${suffix}`);
    live = await api("GET", `${mapUrl}/live${query ? `?${query}` : ""}`);
    showSvg(text);
    statusLine.textContent = t("map.loaded");
  } catch (error) {
    if (error.status === 409) {
      live = null;
      showSvg(await api("GET", `${mapUrl}/svg`));
      statusLine.textContent = t("map.no_data");
    } else if (error.status === 422) {
      filterError.textContent = message(error);
      filterError.hidden = false;
      statusLine.textContent = message(error);
    } else {
      statusLine.textContent = `${t("map.error")}: ${message(error)}`;
    }
  } finally {
    canvas.setAttribute("aria-busy", "false");
  }
  if (firstDraw && svg) firstView();
  else applyScale();
  if (selected) renderPanel(selected);
}

filters.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
filters.addEventListener("reset", () => setTimeout(load, 0));

// -- the step panel --------------------------------------------------------------------------
function highlight(stepId) {
  for (const hit of document.querySelectorAll(".step-hit")) hit.classList.toggle("selected", hit.dataset.step === stepId);
  for (const button of document.querySelectorAll(".step-trigger")) {
    const on = button.dataset.step === stepId;
    button.classList.toggle("selected", on);
    button.setAttribute("aria-expanded", on ? "true" : "false");
  }
}

function scrollToColumn(stepId) {
  const hit = document.querySelector(`.step-hit[data-step="${CSS.escape(stepId)}"]`);
  if (!hit || !svg) return;
  const x = Number(hit.getAttribute("x")) * scale;
  const w = Number(hit.getAttribute("width")) * scale;
  if (x < canvas.scrollLeft || x + w > canvas.scrollLeft + canvas.clientWidth)
    canvas.scrollLeft = x - (canvas.clientWidth - w) / 2;
}

async function openStep(stepId, trigger) {
  selected = stepId;
  lastTrigger = trigger || document.querySelector(`.step-trigger[data-step="${CSS.escape(stepId)}"]`);
  highlight(stepId);
  panel.hidden = false;
  renderPanel(stepId);
  scrollToColumn(stepId);
  panel.focus({ preventScroll: true });
  panel.scrollIntoView({ block: "nearest" });
  if (comments === null) {
    await loadComments();
    if (selected === stepId) renderPanel(stepId);
  }
}

function closePanel() {
  panel.hidden = true;
  selected = null;
  highlight(null);
  lastTrigger?.focus();
}

document.getElementById("panel-close").addEventListener("click", closePanel);
panel.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closePanel();
});
for (const button of document.querySelectorAll(".step-trigger")) {
  button.addEventListener("click", () => openStep(button.dataset.step, button));
}

async function loadComments() {
  try {
    comments = await api("GET", `${mapUrl}/comments`);
  } catch {
    comments = [];
  }
}

function fact(label, value, extra) {
  // <bdi>: numbers and units keep their order inside a right-to-left page.
  return el("div", { class: "fact" }, el("dt", {}, label), el("dd", {}, el("bdi", {}, value), extra ? el("span", { class: "muted" }, el("bdi", {}, extra)) : null));
}

function section(title, ...content) {
  return el("section", { class: "panel-section" }, el("h3", {}, title), ...content);
}

function measures(s) {
  const facts = [
    fact(t("panel.customers"), num(s.customers), `${pct(s.share)} ${t("panel.share")}`),
    fact(t("panel.events"), num(s.events)),
  ];
  if (s.next_step) {
    const next = byId.get(s.next_step);
    facts.push(fact(t("panel.conversion"), pct(s.conversion), next ? `→ ${next.action}` : null));
    facts.push(fact(t("panel.median_time"), duration(s.median_time_to_next), s.p90_time_to_next ? `p90 ${duration(s.p90_time_to_next)}` : null));
  }
  if (s.counts_dropoff) {
    const split = (s.dropoff_by || []).map((d) => `${d.label} ${pct(d.rate)}`).join(" · ");
    facts.push(fact(t("panel.dropoff"), pct(s.dropoff), split || null));
  }
  facts.push(fact(t("panel.contacts"), pct(s.contact_rate), s.contacting ? `(${num(s.contacting)})` : null));
  if (s.looping) facts.push(fact(t("panel.loops"), pct(s.loop_rate), `(${num(s.looping)})`));
  if (s.waited) facts.push(fact(t("panel.waits"), `${num(s.long_waits)} / ${num(s.waited)}`, s.median_wait ? `median ${duration(s.median_wait)}` : null));
  for (const score of s.satisfaction || []) {
    const mean = score.mean === null || score.mean === undefined ? "—" : score.mean.toFixed(2);
    facts.push(fact(`${t("panel.satisfaction")} (${score.score_type.toUpperCase()})`, mean, `${num(score.answers)} ${t("panel.answers")}, ${num(score.dissatisfied)} ${t("panel.dissatisfied")}`));
  }
  if (s.emotion !== null && s.emotion !== undefined) facts.push(fact(t("panel.emotion"), s.emotion.toFixed(2)));
  return el("dl", { class: "facts" }, facts);
}

function renderPanel(stepId) {
  const step = byId.get(stepId);
  if (!step) return;
  panelTitle.textContent = step.action;
  clear(panelBody);
  const measured = live?.live?.steps?.find((s) => s.step === stepId);
  if (!measured || !measured.bound) {
    panelBody.append(el("p", { class: "muted" }, t("panel.no_measures")));
  } else if (!measured.customers) {
    panelBody.append(el("p", { class: "warn" }, t("panel.no_match")));
    if (step.match) panelBody.append(el("code", { class: "selector" }, step.match));
  } else {
    panelBody.append(section(t("panel.measures"), measures(measured)));
    if (measured.contact_reasons?.length) {
      panelBody.append(section(t("panel.reasons"), el("ol", { class: "reasons" }, measured.contact_reasons.slice(0, 5).map((r) => el("li", {}, el("span", {}, r.label), " ", el("span", { class: "muted num" }, `(${num(r.count)})`))))));
    }
    if (measured.verbatims?.length) {
      const list = el("ul", { class: "verbatims" }, measured.verbatims.slice(0, 8).map((v) =>
        el("li", {}, el("blockquote", { lang: v.language || null, dir: "auto" }, v.text), el("span", { class: "muted small-text" }, `${v.language || "?"} · ×${num(v.count)}`))));
      const themes = measured.themes?.length ? el("p", { class: "themes" }, `${t("panel.themes")}: `, measured.themes.map((th) => `${th.label} (${th.count})`).join(", ")) : null;
      panelBody.append(section(t("panel.verbatims"), list, themes));
    }
  }
  const ranked = live?.painpoints?.ranked || [];
  const rank = ranked.findIndex((p) => p.step === stepId);
  const pains = [];
  if (rank >= 0) {
    const pain = ranked[rank];
    pains.push(el("p", { class: "pain-rank" }, t("panel.pain_rank", { rank: rank + 1, share: pct(pain.score) })));
    pains.push(el("ul", { class: "evidence" }, pain.evidence.map((e) => el("li", {}, e))));
  }
  if (step.pain_points?.length) {
    pains.push(el("h4", {}, t("panel.designed_pains")), el("ul", { class: "designed" }, step.pain_points.map((p) => el("li", {}, p))));
  }
  if (pains.length) panelBody.append(section(t("panel.pains"), ...pains));
  panelBody.append(commentsSection(stepId));
  if (canEdit) panelBody.append(el("p", {}, el("a", { href: `/maps/${encodeURIComponent(mapId)}/edit#step=${encodeURIComponent(stepId)}`, class: "button secondary" }, t("panel.edit_step"))));
}

function commentsSection(stepId) {
  const mine = (comments || []).filter((c) => c.step === stepId);
  const list = mine.length
    ? el("ul", { class: "comment-list" }, mine.map((c) => el("li", {}, el("p", { dir: "auto" }, c.text), el("span", { class: "muted small-text" }, `${c.author} · ${new Date(c.at * 1000).toLocaleString()}`))))
    : el("p", { class: "muted" }, t("panel.no_comments"));
  const parts = [list];
  if (canEdit) {
    const area = el("textarea", { id: "panel-comment", name: "text", rows: "2", required: true, maxlength: "5000", dir: "auto" });
    const error = el("p", { class: "error", role: "alert", hidden: true });
    const form = el("form", { class: "stack", id: "panel-comment-form" },
      el("label", { for: "panel-comment" }, t("panel.add_comment")), area,
      el("div", { class: "buttons" }, el("button", { type: "submit", class: "secondary" }, t("panel.post"))), error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (!text) return;
      try {
        await api("POST", `${mapUrl}/comments`, { step: stepId, text });
        await loadComments();
        renderPanel(stepId);
        document.getElementById("panel-comment")?.focus();
      } catch (err) {
        error.textContent = message(err);
        error.hidden = false;
      }
    });
    parts.push(form);
  }
  return section(t("panel.comments"), ...parts);
}

window.addEventListener("resize", () => {
  if (svg && !phone.matches && scale * natural.width < canvas.clientWidth) fit();
});

if (phone.matches) filtersBox.open = false;
load();
