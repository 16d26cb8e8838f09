// Starts Swagger UI on the server's OpenAPI document; the settings come from the page
// (a JSON block, so the Content-Security-Policy needs no inline script).
window.addEventListener("load", function () {
  var config = JSON.parse(document.getElementById("docs-config").textContent);
  var ui = SwaggerUIBundle({
    urls: config.documents, // the e-prescription types first; every type is a big document
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never send the document anywhere
    docExpansion: "none",
    defaultModelsExpandDepth: 0,
    filter: true,
    persistAuthorization: false,
    // the sign-in window hands the code back to this page: same origin as the page
    oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect.html",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
  if (config.client) {
    ui.initOAuth({
      clientId: config.client,
      usePkceWithAuthorizationCodeGrant: true,
      scopes: config.scopes,
      additionalQueryStringParams: { aud: config.aud },
    });
  }
  window.ui = ui;
});
