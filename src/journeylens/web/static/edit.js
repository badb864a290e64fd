// The map editor: one step's fields and lanes with live selector validation, step structure
// (add, move, delete), stages (add, rename, move, delete when empty), the YAML, version history
// with diffs and restore, and comments on steps.
import { t, api, el, clear, num, message, debounce } from "./app.js";

const page = document.getElementById("edit-page");
const mapId = page.dataset.mapId;
const mapLang = page.dataset.mapLang;
const mapUrl = `/api/maps/${encodeURIComponent(mapId)}`;

const notice = document.getElementById("edit-notice");
const stepForm = document.getElementById("step-form");
const stepEmpty = document.getElementById("step-empty");
const stepIdLabel = document.getElementById("step-id");
const stepError = document.getElementById("step-error");
const structure = document.getElementById("step-structure");
const matchInput = document.getElementById("s-match");
const matchStatus = document.getElementById("match-status");
const yamlText = document.getElementById("yaml-text");
const yamlIssues = document.getElementById("yaml-issues");
const versions = document.getElementById("versions");
const diff = document.getElementById("diff");
const commentsBox = document.getElementById("comments");
const commentList = document.getElementById("comment-list");

let model = null; // the map as JSON
let selected = null;
let selectedStage = null;

function say(text, kind = "ok") {
  notice.textContent = text;
  notice.className = `notice ${kind}`;
}

const textOf = (value) => (value === null || value === undefined ? "" : typeof value === "string" ? value : value[mapLang] ?? Object.values(value)[0] ?? "");

// The list lanes edited as one item per line; pain points as "severity: text" lines.
const LANES = ["gains", "physical_evidence", "frontstage", "backstage", "support"];
const laneField = (lane) => document.getElementById(`s-${lane.replace(/_/g, "-")}`);
const linesOf = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);
const painLine = (pain) => `${pain.severity || "medium"}: ${textOf(pain.text)}`;

/** "high: text" → {severity: "high", text}; a line without a "word:" prefix is medium. The
 * server refuses a word that is not a severity, with the line's number. */
function parsePain(line) {
  const found = /^([A-Za-z]+)\s*:\s*(.+)$/.exec(line);
  return found ? { severity: found[1].toLowerCase(), text: found[2].trim() } : { severity: "medium", text: line };
}

function findStep(stepId) {
  for (const stage of model.stages) for (const step of stage.steps || []) if (step.id === stepId) return step;
  return null;
}

async function loadMap() {
  const answer = await api("GET", mapUrl);
  model = answer.map;
  yamlText.value = answer.yaml;
  renderStructure();
}

function renderStructure() {
  const list = clear(document.getElementById("structure"));
  for (const stage of model.stages) {
    const name = el("button", { type: "button", class: "stage-select", "aria-pressed": stage.id === selectedStage ? "true" : "false", dataset: { stage: stage.id } }, textOf(stage.name));
    name.addEventListener("click", () => selectStage(stage.id));
    const steps = (stage.steps || []).map((step) => {
      const button = el("button", { type: "button", class: `step-select${step.match ? "" : " unbound"}`, "aria-pressed": step.id === selected ? "true" : "false", dataset: { step: step.id } }, textOf(step.action));
      button.addEventListener("click", () => selectStep(step.id));
      return el("li", {}, button);
    });
    if (!steps.length) steps.push(el("li", { class: "muted small-text empty-stage" }, t("edit.empty_stage")));
    list.append(el("li", { class: "stage-item", dataset: { stage: stage.id } }, name, el("ol", { class: "step-buttons" }, steps)));
  }
}

// -- stages ------------------------------------------------------------------------------------
const stageTools = document.getElementById("stage-tools");
const stageName = document.getElementById("st-name");

function findStage(stageId) {
  return model.stages.find((stage) => stage.id === stageId) || null;
}

function selectStage(stageId) {
  const stage = findStage(stageId);
  if (!stage) return;
  selectedStage = stageId;
  for (const b of document.querySelectorAll(".stage-select")) b.setAttribute("aria-pressed", b.dataset.stage === stageId ? "true" : "false");
  document.getElementById("stage-id").textContent = stageId;
  document.getElementById("stage-empty").hidden = true;
  stageTools.hidden = false;
  stageName.value = textOf(stage.name);
  document.getElementById("st-name-note").hidden = typeof stage.name === "string";
  const index = model.stages.indexOf(stage);
  document.getElementById("stage-earlier").disabled = index === 0;
  document.getElementById("stage-later").disabled = index === model.stages.length - 1;
  document.getElementById("delete-stage").disabled = (stage.steps || []).length > 0 || model.stages.length === 1;
}

function clearStage() {
  selectedStage = null;
  document.getElementById("stage-id").textContent = "";
  document.getElementById("stage-empty").hidden = false;
  stageTools.hidden = true;
}

document.getElementById("stage-rename-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = stageName.value.trim();
  if (!selectedStage || !name) return;
  if (name === textOf(findStage(selectedStage).name)) {
    say(t("edit.no_changes"));
    return;
  }
  await structural("POST", `${mapUrl}/stages/rename`, { stage: selectedStage, name });
});
document.getElementById("stage-earlier").addEventListener("click", () => structural("POST", `${mapUrl}/stages/move`, { stage: selectedStage, direction: "earlier" }));
document.getElementById("stage-later").addEventListener("click", () => structural("POST", `${mapUrl}/stages/move`, { stage: selectedStage, direction: "later" }));
document.getElementById("delete-stage").addEventListener("click", async () => {
  if (!selectedStage || !window.confirm(t("edit.confirm_delete_stage"))) return;
  const answer = await structural("POST", `${mapUrl}/stages/delete`, { stage: selectedStage });
  if (answer) clearStage();
});
document.getElementById("add-stage-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const id = String(data.get("id")).trim();
  const answer = await structural("POST", `${mapUrl}/stages`, { after: selectedStage, id, name: String(data.get("name")).trim() });
  if (answer) {
    form.reset();
    selectStage(id);
  }
});

function selectStep(stepId) {
  const step = findStep(stepId);
  if (!step) return;
  selected = stepId;
  history.replaceState(null, "", `#step=${encodeURIComponent(stepId)}`);
  for (const b of document.querySelectorAll(".step-select")) b.setAttribute("aria-pressed", b.dataset.step === stepId ? "true" : "false");
  stepIdLabel.textContent = stepId;
  stepEmpty.hidden = true;
  stepForm.hidden = false;
  structure.hidden = false;
  commentsBox.hidden = false;
  stepError.hidden = true;
  const action = document.getElementById("s-action");
  const translated = typeof step.action !== "string";
  action.value = textOf(step.action);
  action.disabled = translated;
  document.getElementById("s-action-note").hidden = !translated;
  const description = document.getElementById("s-description");
  description.value = textOf(step.description);
  description.disabled = step.description !== undefined && typeof step.description !== "string";
  document.getElementById("s-emotion").value = step.emotion === undefined || step.emotion === null ? "" : String(Math.round(step.emotion));
  const thoughts = document.getElementById("s-thoughts");
  thoughts.value = (step.thoughts || []).map(textOf).join("\n");
  thoughts.disabled = (step.thoughts || []).some((x) => typeof x !== "string");
  document.getElementById("s-emotion-label").value = textOf(step.emotion_label);
  document.getElementById("s-pain-points").value = (step.pain_points || []).map(painLine).join("\n");
  for (const lane of LANES) laneField(lane).value = (step[lane] || []).map(textOf).join("\n");
  document.getElementById("s-owner").value = textOf(step.owner);
  matchInput.value = step.match || "";
  document.getElementById("s-message").value = "";
  checkSelector();
  renderComments();
}

// -- live selector validation ------------------------------------------------------------------
let checkSeq = 0;
async function checkSelector() {
  const selector = matchInput.value.trim();
  const seq = ++checkSeq;
  matchStatus.className = "selector-status";
  if (!selector) {
    matchStatus.textContent = "";
    matchInput.removeAttribute("aria-invalid");
    return;
  }
  matchStatus.textContent = t("edit.checking");
  try {
    const result = await api("POST", "/api/selectors/check", { selector });
    if (seq !== checkSeq) return;
    if (!result.valid) {
      const detail = String(result.error || "").replace(/^column \d+:\s*/, "");
      matchStatus.textContent = t("edit.selector_error", { column: result.column ?? "?", error: detail });
      matchStatus.classList.add("invalid");
      matchInput.setAttribute("aria-invalid", "true");
    } else {
      matchInput.removeAttribute("aria-invalid");
      matchStatus.classList.add("valid");
      matchStatus.textContent = result.events === null || result.events === undefined
        ? t("edit.valid_no_data")
        : t("edit.matches", { events: num(result.events), customers: num(result.customers) });
    }
  } catch (error) {
    if (seq === checkSeq) matchStatus.textContent = message(error);
  }
}
matchInput.addEventListener("input", debounce(checkSelector, 300));

// -- saving a step -----------------------------------------------------------------------------
stepForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!selected) return;
  const step = findStep(selected);
  const body = {};
  const action = document.getElementById("s-action");
  if (!action.disabled && action.value.trim() !== textOf(step.action)) body.action = action.value.trim();
  const description = document.getElementById("s-description");
  if (!description.disabled && description.value.trim() !== textOf(step.description)) body.description = description.value.trim() || null;
  const emotion = document.getElementById("s-emotion").value;
  const before = step.emotion === undefined || step.emotion === null ? "" : String(Math.round(step.emotion));
  if (emotion !== before) body.emotion = emotion === "" ? null : Number(emotion);
  const thoughts = document.getElementById("s-thoughts");
  const lines = thoughts.value.split("\n").map((x) => x.trim()).filter(Boolean);
  if (!thoughts.disabled && lines.join("\n") !== (step.thoughts || []).map(textOf).join("\n")) body.thoughts = lines;
  const emotionLabel = document.getElementById("s-emotion-label").value.trim();
  if (emotionLabel !== textOf(step.emotion_label)) body.emotion_label = emotionLabel || null;
  const pains = linesOf(document.getElementById("s-pain-points").value).map(parsePain);
  if (pains.map(painLine).join("\n") !== (step.pain_points || []).map(painLine).join("\n")) body.pain_points = pains;
  for (const lane of LANES) {
    const items = linesOf(laneField(lane).value);
    if (items.join("\n") !== (step[lane] || []).map(textOf).join("\n")) body[lane] = items;
  }
  const owner = document.getElementById("s-owner").value.trim();
  if (owner !== textOf(step.owner)) body.owner = owner || null;
  const match = matchInput.value.trim();
  if (match !== (step.match || "")) body.match = match || null;
  const note = document.getElementById("s-message").value.trim();
  if (note) body.message = note;
  stepError.hidden = true;
  if (!Object.keys(body).some((k) => k !== "message")) {
    say(t("edit.no_changes"));
    return;
  }
  try {
    const answer = await api("PATCH", `${mapUrl}/steps/${encodeURIComponent(selected)}`, body);
    await refresh();
    say(t("edit.saved", { version: answer.version }));
  } catch (error) {
    stepError.textContent = message(error);
    stepError.hidden = false;
  }
});

async function structural(method, url, body) {
  try {
    const answer = await api(method, url, body);
    await refresh();
    say(t("edit.saved", { version: answer.version }));
    return answer;
  } catch (error) {
    say(message(error), "error");
    return null;
  }
}

document.getElementById("move-earlier").addEventListener("click", () => structural("POST", `${mapUrl}/steps/${encodeURIComponent(selected)}/move`, { direction: "earlier" }));
document.getElementById("move-later").addEventListener("click", () => structural("POST", `${mapUrl}/steps/${encodeURIComponent(selected)}/move`, { direction: "later" }));
document.getElementById("delete-step").addEventListener("click", async () => {
  if (!window.confirm(t("edit.confirm_delete"))) return;
  const answer = await structural("DELETE", `${mapUrl}/steps/${encodeURIComponent(selected)}`);
  if (answer) {
    selected = null;
    stepForm.hidden = true;
    structure.hidden = true;
    commentsBox.hidden = true;
    stepEmpty.hidden = false;
    stepIdLabel.textContent = "";
  }
});
document.getElementById("add-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const answer = await structural("POST", `${mapUrl}/steps`, { after: selected, id: String(data.get("id")).trim(), action: String(data.get("action")).trim() });
  if (answer) {
    form.reset();
    selectStep(String(data.get("id")).trim());
  }
});

// -- YAML --------------------------------------------------------------------------------------
document.getElementById("yaml-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  yamlIssues.hidden = true;
  const note = document.getElementById("yaml-message").value.trim();
  try {
    const answer = await api("PUT", mapUrl, { yaml: yamlText.value, message: note || null });
    await refresh();
    say(t("edit.saved", { version: answer.version }));
  } catch (error) {
    const detail = error.detail;
    clear(yamlIssues);
    if (detail && typeof detail === "object" && Array.isArray(detail.issues)) {
      yamlIssues.append(el("p", {}, t("edit.issues")), el("ul", {}, detail.issues.map((i) =>
        el("li", {}, el("button", { type: "button", class: "link", dataset: { line: i.line ?? "", column: i.column ?? "" } }, `${i.line ?? "?"}:${i.column ?? "?"}`), ` ${i.path ? i.path + ": " : ""}${i.message}`))));
      for (const b of yamlIssues.querySelectorAll("button[data-line]")) b.addEventListener("click", () => goTo(Number(b.dataset.line), Number(b.dataset.column)));
    } else {
      yamlIssues.append(el("p", {}, message(error)));
    }
    yamlIssues.hidden = false;
  }
});

function goTo(line, column) {
  if (!line) return;
  const lines = yamlText.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += Math.max(0, (column || 1) - 1);
  yamlText.focus();
  yamlText.setSelectionRange(offset, offset);
  const lineHeight = parseFloat(getComputedStyle(yamlText).lineHeight) || 18;
  yamlText.scrollTop = Math.max(0, (line - 5) * lineHeight);
}

// -- history -----------------------------------------------------------------------------------
async function loadVersions() {
  const found = await api("GET", `${mapUrl}/versions`);
  clear(versions);
  diff.hidden = true;
  if (!found.length) {
    versions.append(el("li", { class: "muted" }, t("edit.no_history")));
    return;
  }
  for (const v of found) {
    const show = el("button", { type: "button", class: "small secondary" }, t("action.show_diff"));
    const restore = el("button", { type: "button", class: "small secondary restore", dataset: { version: v.version } }, t("action.restore"));
    show.addEventListener("click", async () => {
      const detail = await api("GET", `${mapUrl}/versions/${v.version}`);
      renderDiff(detail.diff);
    });
    restore.addEventListener("click", async () => {
      try {
        const answer = await api("POST", `${mapUrl}/versions/${v.version}/restore`);
        await refresh();
        say(t("edit.restored", { version: answer.version }));
      } catch (error) {
        say(message(error), "error");
      }
    });
    versions.append(el("li", { class: "version", dataset: { version: v.version } },
      el("div", {}, el("strong", {}, t("edit.version", { version: v.version })), " ", el("span", { class: "muted" }, `${v.author || "—"} · ${new Date(v.at * 1000).toLocaleString()}`)),
      el("div", { class: "version-message", dir: "auto" }, v.message || ""),
      el("div", { class: "buttons" }, show, restore)));
  }
}

function renderDiff(text) {
  clear(diff);
  if (!text) {
    diff.append(t("edit.no_changes"));
  } else {
    for (const line of text.split("\n")) {
      const cls = line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : "";
      diff.append(el("span", { class: cls }, line), "\n");
    }
  }
  diff.hidden = false;
}

// -- comments ----------------------------------------------------------------------------------
let comments = [];
async function loadComments() {
  comments = await api("GET", `${mapUrl}/comments`);
  renderComments();
}

function renderComments() {
  clear(commentList);
  const mine = comments.filter((c) => c.step === selected);
  if (!mine.length) commentList.append(el("li", { class: "muted" }, t("panel.no_comments")));
  for (const c of mine) commentList.append(el("li", {}, el("p", { dir: "auto" }, c.text), el("span", { class: "muted small-text" }, `${c.author} · ${new Date(c.at * 1000).toLocaleString()}`)));
}

document.getElementById("comment-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const area = document.getElementById("c-text");
  const text = area.value.trim();
  if (!text || !selected) return;
  try {
    await api("POST", `${mapUrl}/comments`, { step: selected, text });
    area.value = "";
    await loadComments();
  } catch (error) {
    say(message(error), "error");
  }
});

async function refresh() {
  await loadMap();
  await loadVersions();
  if (selected && findStep(selected)) selectStep(selected);
  if (selectedStage && findStage(selectedStage)) selectStage(selectedStage);
  else if (selectedStage) clearStage();
}

async function start() {
  try {
    await Promise.all([loadMap(), loadVersions(), loadComments()]);
  } catch (error) {
    say(message(error), "error");
    return;
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get("step");
  if (wanted && findStep(wanted)) selectStep(wanted);
  page.dataset.ready = "true";
}
start();
