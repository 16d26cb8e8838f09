// The app after sign-in: read the Patient in context, list their MedicationRequests by
// prescription, and show a prescription's printout ($printout, HTML and PDF).
"use strict";
const NATIONAL_CODE = "http://noskhe.ir/fhir/sid/national-code";
const SEX = { male: "مرد", female: "زن", other: "دیگر", unknown: "نامشخص" };
const $ = (id) => document.getElementById(id);
const faDigits = (text) => String(text).replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]);

function jalali(iso) {
  if (!iso) return "-";
  const options = { year: "numeric", month: "2-digit", day: "2-digit" };
  return new Intl.DateTimeFormat("fa-IR-u-ca-persian", options).format(new Date(`${iso.slice(0, 10)}T12:00:00`));
}

function nameOf(resource) {
  const name = (resource.name || [])[0] || {};
  return name.text || [...(name.given || []), name.family || ""].join(" ").trim() || resource.id;
}

function showPatient(patient) {
  const code = (patient.identifier || []).find((i) => i.system === NATIONAL_CODE);
  $("patient-name").textContent = nameOf(patient);
  $("patient-code").textContent = code ? code.value : "-";
  $("patient-birth").textContent = jalali(patient.birthDate);
  $("patient-sex").textContent = SEX[patient.gender] || "-";
  $("patient").hidden = false;
}

function itemLabel(item) {
  const concept = item.medicationCodeableConcept || {};
  const coding = (concept.coding || [])[0] || {};
  const quantity = ((item.dispenseRequest || {}).quantity || {}).value;
  const label = concept.text || coding.display || coding.code || "?";
  return quantity ? `${label} — ${faDigits(quantity)}` : label;
}

function byPrescription(items) {
  const groups = new Map();
  for (const item of items) {
    const id = (item.groupIdentifier || {}).value || "-";
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(item);
  }
  return groups;
}

async function showPrintout(client, prescription) {
  const base = client.state.serverUrl.replace(/\/$/, "");
  const url = `${base}/MedicationRequest/$printout?prescription=${encodeURIComponent(prescription)}`;
  const auth = { Authorization: `Bearer ${client.state.tokenResponse.access_token}` };
  const page = await fetch(url, { headers: { ...auth, Accept: "text/html" } });
  if (!page.ok) throw new Error(`printout: HTTP ${page.status}`);
  $("printout-frame").srcdoc = await page.text();
  const pdf = await fetch(`${url}&format=pdf`, { headers: auth });
  if (pdf.ok) {
    $("pdf").href = URL.createObjectURL(await pdf.blob());
    $("pdf").download = `noskhe-${prescription}.pdf`;
  }
  $("printout").hidden = false;
}

function listPrescriptions(client, items) {
  const groups = byPrescription(items);
  const list = $("rx-list");
  for (const [id, group] of groups) {
    const li = document.createElement("li");
    const title = document.createElement("p");
    title.innerHTML = "نسخهٔ <span class=\"code\"></span>";
    title.querySelector("span").textContent = id;
    const ul = document.createElement("ul");
    for (const item of group) {
      const row = document.createElement("li");
      row.textContent = itemLabel(item);
      ul.append(row);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "نمایش نسخهٔ چاپی";
    button.addEventListener("click", () => showPrintout(client, id).catch(fail));
    li.append(title, ul, button);
    list.append(li);
  }
  $("no-prescriptions").hidden = groups.size > 0;
  $("prescriptions").hidden = false;
  return [...groups.keys()];
}

function fail(error) {
  $("status").textContent = `خطا: ${error.message || error}`;
  $("status").className = "error";
}

$("print").addEventListener("click", () => $("printout-frame").contentWindow.print());
$("printout-frame").addEventListener("load", (event) => {
  const frame = event.target; // the whole printout, no scrolling inside the frame
  frame.style.height = `${frame.contentDocument.documentElement.scrollHeight + 8}px`;
});

FHIR.oauth2
  .ready()
  .then(async (client) => {
    const patient = await client.patient.read();
    showPatient(patient);
    const items = await client.request(`MedicationRequest?patient=${encodeURIComponent(patient.id)}&_count=100`, {
      pageLimit: 0,
      flat: true,
    });
    const prescriptions = listPrescriptions(client, items);
    const user = client.getFhirUser() || "";
    $("status").textContent = `متصل${user ? ` — ${user}` : ""}`;
    if (sessionStorage.getItem("noskhe-sample-print") && prescriptions.length) {
      sessionStorage.removeItem("noskhe-sample-print");
      await showPrintout(client, prescriptions[0]);
    }
  })
  .catch(fail);
