// The admin page: add users, change roles, create an API token (shown once), revoke tokens.
import { t, api, message } from "./app.js";

const notice = document.getElementById("admin-notice");

function say(text, kind = "ok") {
  notice.textContent = text;
  notice.className = `notice ${kind}`;
}

for (const form of document.querySelectorAll("form.role-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const role = new FormData(form).get("role");
    try {
      await api("PATCH", `/api/users/${encodeURIComponent(form.dataset.user)}`, { role });
      say(`${form.dataset.user}: ${t(`role.${role}`)}. ${t("admin.done")}`);
    } catch (error) {
      say(message(error), "error");
    }
  });
}

document.getElementById("add-user").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(event.target);
  try {
    await api("POST", "/api/users", { name: data.get("name"), password: data.get("password"), role: data.get("role") });
    window.location.reload();
  } catch (error) {
    say(message(error), "error");
  }
});

document.getElementById("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(event.target);
  try {
    const answer = await api("POST", "/api/tokens", { label: data.get("label") });
    document.getElementById("token-value").textContent = answer.token;
    document.getElementById("token-out").hidden = false;
    event.target.reset();
  } catch (error) {
    say(message(error), "error");
  }
});

for (const form of document.querySelectorAll("form.revoke-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("DELETE", `/api/tokens/${encodeURIComponent(form.dataset.token)}`);
      window.location.reload();
    } catch (error) {
      say(message(error), "error");
    }
  });
}
