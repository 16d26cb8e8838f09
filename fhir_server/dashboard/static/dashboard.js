// The dashboard: sign in through the server's own SMART authorization (the official JS
// client), then show the view the server renders for the signed-in user.
"use strict";
const main = document.getElementById("dashboard");
const status = document.getElementById("status");
const view = document.getElementById("view");
const LANG_KEY = "noskhe-dashboard-lang";
const here = new URLSearchParams(location.search);
if (here.has("lang")) sessionStorage.setItem(LANG_KEY, here.get("lang"));

function fail(error) {
  status.textContent = String(error.message || error);
  status.className = "error";
}

async function show(client, params) {
  params.set("lang", sessionStorage.getItem(LANG_KEY) || main.dataset.lang);
  const response = await fetch(`/dashboard/view?${params}`, {
    headers: { Authorization: `Bearer ${client.state.tokenResponse.access_token}`, Accept: "text/html" },
  });
  const text = await response.text();
  if (!response.ok) {
    view.innerHTML = "";
    throw new Error(text || `HTTP ${response.status}`);
  }
  view.innerHTML = text; // the server's own, escaped, rendering
  status.textContent = "";
  status.className = "";
  const form = document.getElementById("controls");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    status.textContent = "…";
    show(client, new URLSearchParams(new FormData(form))).catch(fail);
  });
}

FHIR.oauth2
  .init({
    clientId: main.dataset.client,
    iss: main.dataset.iss,
    scope: "openid fhirUser user/Measure.rs user/MeasureReport.rs user/Organization.rs",
    redirectUri: "/dashboard/",
  })
  .then((client) => show(client, new URLSearchParams()))
  .catch(fail);
