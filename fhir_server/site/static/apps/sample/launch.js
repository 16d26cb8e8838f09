// SMART launch with the official JS client: standalone (?iss=) or EHR (?iss=&launch=).
"use strict";
const params = new URLSearchParams(location.search);
if (params.has("print")) sessionStorage.setItem("noskhe-sample-print", "1");
const ehrLaunch = params.has("launch");
FHIR.oauth2.authorize({
  clientId: "noskhe-sample",
  // An EHR passes iss and launch in the URL (the client reads them); standalone: this server.
  iss: params.get("iss") || new URL("/fhir", location.href).href,
  scope: `${ehrLaunch ? "launch" : "launch/patient"} openid fhirUser online_access patient/*.rs`,
  redirectUri: "index.html",
});
