/* Swagger UI on this server's OpenAPI document; no validator badge (it would call another site). */
window.ui = SwaggerUIBundle({
  url: "/v1/openapi.json", dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout", persistAuthorization: false
});
