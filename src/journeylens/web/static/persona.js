// The persona editor: texts in one language, lists one item a line, preferred channels and the
// segment selector (validated live, as in the map editor), saved with PUT /api/personas/{id}.
import { t, api, message, watchSelector } from "./app.js";

const page = document.getElementById("persona-edit");
const personaId = page.dataset.persona;
const language = page.dataset.language;
const form = document.getElementById("persona-form");
const notice = document.getElementById("persona-notice");
const errorBox = document.getElementById("persona-error");
const segment = document.getElementById("p-segment");

watchSelector(segment, document.getElementById("segment-status"));

const lines = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);

function fill(card) {
  document.getElementById("p-name").value = card.name;
  document.getElementById("p-description").value = card.description || "";
  for (const area of form.querySelectorAll("textarea[data-list]")) area.value = (card[area.name] || []).join("\n");
  segment.value = card.segment || "";
  for (const box of form.querySelectorAll('input[name="preferred_channels"]')) box.checked = card.preferred_channels.includes(box.value);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const body = {
    language,
    name: document.getElementById("p-name").value.trim(),
    description: document.getElementById("p-description").value.trim() || null,
    segment: segment.value.trim() || null,
    preferred_channels: [...form.querySelectorAll('input[name="preferred_channels"]:checked')].map((box) => box.value),
  };
  for (const area of form.querySelectorAll("textarea[data-list]")) body[area.name] = lines(area.value);
  const note = document.getElementById("p-message").value.trim();
  if (note) body.message = note;
  const button = document.getElementById("save-persona");
  button.disabled = true;
  try {
    const card = await api("PUT", `/api/personas/${encodeURIComponent(personaId)}`, body);
    fill(card);
    notice.textContent = t("pe.saved");
    notice.className = "notice ok";
  } catch (error) {
    errorBox.textContent = message(error);
    errorBox.hidden = false;
    notice.textContent = "";
  } finally {
    button.disabled = false;
  }
});
page.dataset.ready = "true";
