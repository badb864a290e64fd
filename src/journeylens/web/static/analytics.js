// The analytics page: process map, paths (Sankey), funnel builder, retention, variants,
// conformance, drivers and segments, each run on demand through /api/analyses/... (customer data shown as text).
import { t, api, el, clear, num, pct, duration, message, table } from "./app.js";

const lang = document.documentElement.lang || "en";

function runner(formId, outId, run) {
  const form = document.getElementById(formId);
  const out = document.getElementById(outId);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clear(out).append(el("p", { class: "muted" }, t("an.running")));
    out.setAttribute("aria-busy", "true");
    try {
      const node = await run(new FormData(form));
      clear(out).append(node);
    } catch (error) {
      clear(out).append(el("p", { class: "error", role: "alert" }, message(error)));
    } finally {
      button.disabled = false;
      out.setAttribute("aria-busy", "false");
      out.dataset.done = "true";
    }
  });
}

runner("pm-form", "pm-out", async (data) => {
  const top = data.get("top");
  const result = await api("GET", `/api/analyses/dfg?top=${top}`);
  const img = el("img", { src: `/api/analyses/dfg/svg?top=${top}&lang=${encodeURIComponent(lang)}`, alt: t("an.process"), class: "process-img" });
  const edges = table(
    [[t("col.from"), (e) => e.source], [t("col.to"), (e) => e.target], [t("col.count"), (e) => num(e.count), "num"], [t("col.customers"), (e) => num(e.customers), "num"], [t("col.median"), (e) => duration(e.median_s), "num"]],
    result.edges,
  );
  return el("div", {}, el("div", { class: "process-scroll" }, img), el("details", {}, el("summary", {}, `${t("an.top_edges")}: ${result.edges.length}`), el("div", { class: "table-wrap" }, edges)));
});

function sanitize(root) {
  // The server escapes all customer text; this is defence in depth against active content.
  for (const bad of root.querySelectorAll("script, foreignObject, iframe")) bad.remove();
  for (const node of [root, ...root.querySelectorAll("*")]) {
    for (const attr of [...node.attributes]) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith("on")) node.removeAttribute(attr.name);
      else if ((name === "href" || name === "xlink:href") && !value.startsWith("#") && !value.startsWith("data:")) node.removeAttribute(attr.name);
    }
  }
}

runner("paths-form", "paths-out", async (data) => {
  const params = new URLSearchParams();
  for (const key of ["anchor", "direction", "steps", "top"]) params.set(key, String(data.get(key)).trim());
  const [result, text] = await Promise.all([api("GET", `/api/analyses/paths?${params}`), api("GET", `/api/analyses/paths/svg?${params}`)]);
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = parsed.documentElement;
  if (root.nodeName !== "svg" || parsed.querySelector("parsererror")) throw new Error(t("error.failed"));
  sanitize(root);
  const drawing = document.importNode(root, true);
  drawing.classList.add("sankey-svg");
  drawing.setAttribute("role", "img");
  drawing.setAttribute("aria-label", t("an.paths"));
  drawing.removeAttribute("height");
  drawing.removeAttribute("width");
  const summary = t("an.paths_summary", { anchored: num(result.anchored_journeys), journeys: num(result.journeys) });
  return el("div", {}, el("p", { class: "lead" }, summary), el("div", { class: "sankey-scroll" }, drawing));
});

runner("funnel-form", "funnel-out", async (data) => {
  const params = new URLSearchParams();
  for (const line of String(data.get("steps")).split("\n")) if (line.trim()) params.append("step", line.trim());
  params.set("window", String(data.get("window")));
  const result = await api("GET", `/api/analyses/funnel?${params}`);
  const steps = result.total.steps;
  const first = steps[0]?.entered || 1;
  return el("ol", { class: "funnel" }, steps.map((s) =>
    el("li", {},
      el("code", { class: "selector" }, s.name),
      el("div", { class: "bar-row" },
        el("span", { class: "bar", style: `width: ${Math.max(1, Math.round((100 * s.entered) / first))}%` }),
        el("span", { class: "bar-label num" }, `${num(s.entered)} ${t("an.entered")} · ${pct(s.conversion_from_first)}`)),
      s.median_s !== null && s.median_s !== undefined ? el("small", { class: "muted" }, `${t("col.median")}: ${duration(s.median_s)}`) : null)));
});

runner("retention-form", "retention-out", async (data) => {
  const params = new URLSearchParams({ start: String(data.get("start")), period: String(data.get("period")) });
  const returning = String(data.get("returning") || "").trim();
  if (returning) params.set("returning", returning);
  const result = await api("GET", `/api/analyses/retention?${params}`);
  const periods = Math.max(0, ...result.cohorts.map((c) => c.shares.length));
  const columns = [[t("col.cohort"), (c) => c.cohort, "nowrap"], [t("col.size"), (c) => num(c.size), "num"]];
  for (let k = 0; k < periods; k++) columns.push([`+${k}`, (c) => (c.shares[k] === null || c.shares[k] === undefined ? "" : heat(c.shares[k])), "num heat-cell"]);
  columns.push([t("col.churned"), (c) => pct(c.churn_share), "num"]);
  return table(columns, result.cohorts, { class: "retention" });
});

function heat(share) {
  return el("span", { class: "heat", style: `--heat: ${Math.min(1, share * 2.5).toFixed(2)}` }, pct(share));
}

runner("variants-form", "variants-out", async () => {
  const result = await api("GET", "/api/analyses/variants?top=10");
  return table(
    [[t("col.journey"), (v) => el("span", { class: "sequence" }, v.activities.join(" → "))], [t("col.count"), (v) => num(v.count), "num"], [t("col.share"), (v) => pct(v.share), "num"]],
    result.variants,
  );
});

runner("conformance-form", "conformance-out", async (data) => {
  const result = await api("GET", `/api/analyses/conformance?map=${encodeURIComponent(String(data.get("map")))}`);
  const rows = result.path.map((id) => result.steps[id]).filter(Boolean);
  return el("div", {},
    el("p", { class: "lead" }, t("an.conforming", { share: pct(result.conformance), customers: num(result.customers) })),
    table([[t("col.step"), (s) => s.step], [t("col.customers"), (s) => num(s.reached), "num"], [t("col.fitness"), (s) => pct(s.fitness), "num"], [t("col.off_design"), (s) => pct(s.from_undesigned_share), "num"]], rows));
});

runner("drivers-form", "drivers-out", async (data) => {
  const params = new URLSearchParams({ map: String(data.get("map")), target: String(data.get("target")) });
  const result = await api("GET", `/api/analyses/drivers?${params}`);
  if (!result.drivers.length) return el("p", { class: "muted" }, t("an.none"));
  const ci = (d) => (d.odds_ratio === null ? "—" : `${d.odds_ratio.toFixed(2)} (${d.ci_low?.toFixed(2)}–${d.ci_high?.toFixed(2)})`);
  return table(
    [[t("col.driver"), (d) => el("span", { title: d.sentence }, d.label)], [t("col.odds"), ci, "num"], [t("col.with"), (d) => pct(d.rate_with), "num"], [t("col.without"), (d) => pct(d.rate_without), "num"], [t("col.customers"), (d) => num(d.support), "num"]],
    result.drivers.slice(0, 15),
    { class: "drivers" },
  );
});

runner("segments-form", "segments-out", async (data) => {
  const result = await api("GET", `/api/analyses/segments?map=${encodeURIComponent(String(data.get("map")))}`);
  return el("ul", { class: "segments" }, result.segments.map((s) =>
    el("li", { class: "segment card" },
      el("div", { class: "segment-head" }, el("strong", {}, s.label), el("span", { class: "num muted" }, `${num(s.size)} · ${pct(s.share)}`)),
      el("span", { class: "meter", "aria-hidden": "true" }, el("span", { style: `width: ${Math.round(100 * s.share)}%` })),
      el("p", {}, s.description))));
});
