// journeylens: helpers shared by every page (no framework, no build step).
// All customer text is put into the page with textContent, never as HTML.

const strings = JSON.parse(document.getElementById("jl-strings")?.textContent || "{}");

/** A UI string in the page's language, with {name} placeholders filled. */
export function t(key, values = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/** Call the JSON API; unsafe methods carry the session's CSRF token. */
export async function api(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (response.status === 401) {
    window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    throw new ApiError(401, "sign in first");
  }
  const type = response.headers.get("content-type") || "";
  const payload = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = payload && typeof payload === "object" ? payload.detail ?? payload : payload;
    throw new ApiError(response.status, detail, payload);
  }
  return payload;
}

/** A human message for an API error. */
export function message(error) {
  if (error instanceof ApiError) {
    const d = error.detail;
    if (typeof d === "string") return d;
    if (d && typeof d === "object" && d.message) return d.message;
    if (Array.isArray(d)) return d.map((x) => x.msg || JSON.stringify(x)).join("; ");
    return JSON.stringify(d);
  }
  return String(error?.message || error);
}

/** Build an element: el("p", {class: "x"}, "text", child). Strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(node, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const lang = document.documentElement.lang || "en";
const numberFormat = new Intl.NumberFormat(lang);
const percentFormat = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });

export const num = (value) => (value === null || value === undefined ? "—" : numberFormat.format(value));
export const pct = (value) => (value === null || value === undefined ? "—" : percentFormat.format(value));

/** Seconds as a short duration: 45 s, 12 min, 3.5 h, 2.1 d. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

/** A table from rows: columns are [header, (row) => cell] pairs. */
export function table(columns, rows, attrs = {}) {
  return el(
    "table",
    attrs,
    el("thead", {}, el("tr", {}, columns.map(([head, , cls]) => el("th", { scope: "col", class: cls }, head)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map(([, cell, cls]) => el("td", { class: cls }, cell(row)))))),
  );
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Language pickers submit on change (the button stays for browsers without script).
for (const form of document.querySelectorAll("form[data-autosubmit]")) {
  form.querySelector("select")?.addEventListener("change", () => form.submit());
}
document.documentElement.classList.add("js");

/** Live validation of a selector input, as the map editor does it: the server parses it and
 * counts the events and customers it matches now (POST /api/selectors/check). */
export function watchSelector(input, status) {
  let seq = 0;
  async function check() {
    const selector = input.value.trim();
    const mine = ++seq;
    status.className = "selector-status";
    if (!selector) {
      status.textContent = "";
      input.removeAttribute("aria-invalid");
      return;
    }
    status.textContent = t("edit.checking");
    try {
      const result = await api("POST", "/api/selectors/check", { selector });
      if (mine !== seq) return;
      if (!result.valid) {
        const detail = String(result.error || "").replace(/^column \d+:\s*/, "");
        status.textContent = t("edit.selector_error", { column: result.column ?? "?", error: detail });
        status.classList.add("invalid");
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
        status.classList.add("valid");
        status.textContent = result.events === null || result.events === undefined
          ? t("edit.valid_no_data")
          : t("edit.matches", { events: num(result.events), customers: num(result.customers) });
      }
    } catch (error) {
      if (mine === seq) status.textContent = message(error);
    }
  }
  input.addEventListener("input", debounce(check, 300));
  check();
  return check;
}
