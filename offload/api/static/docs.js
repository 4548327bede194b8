// Starts Swagger UI on the API's docs page. A file of its own: the site's CSP forbids
// inline script. The document's URL is on the page (data-spec-url), not written here.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  root.textContent = "";
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
