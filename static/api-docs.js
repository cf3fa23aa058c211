/* The API docs page (/api/docs): drf-spectacular's Swagger UI start-up script (its swagger_ui.js template), as a
   static file so that the page needs no inline script under the Content-Security-Policy. Its settings come
   from the JSON block the page renders (ApiDocsView). */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  const schemaAuthNames = config.schemaAuthNames;
  let schemaAuthFailed = false;
  const plugins = [];
  let ui;

  const reloadSchemaOnAuthChange = () => {
    const reload = (ori) => (...args) => {
      schemaAuthFailed = false;
      setTimeout(() => ui.specActions.download());
      return ori(...args);
    };
    return {statePlugins: {auth: {wrapActions: {authorizeOauth2: reload, authorize: reload, logout: reload}}}};
  };
  if (schemaAuthNames.length > 0) {
    plugins.push(reloadSchemaOnAuthChange);
  }

  const isSchemaUrl = (url) => ui !== undefined && url === new URL(ui.getConfigs().url, document.baseURI).href;

  const responseInterceptor = (response) => {
    if (!response.ok && isSchemaUrl(response.url)) {
      console.warn("schema request received '" + response.status + "'. disabling credentials for schema till logout.");
      if (!schemaAuthFailed) {
        schemaAuthFailed = true;  // only retry once to prevent an endless loop
        setTimeout(() => ui.specActions.download());
      }
    }
    return response;
  };

  const injectAuthCredentials = (request) => {
    let authorized;
    if (ui !== undefined) {
      const state = ui.getState().get("auth").get("authorized");
      if (state !== undefined && Object.keys(state.toJS()).length !== 0) {
        authorized = state.toJS();
      }
    } else if (![undefined, "{}"].includes(localStorage.authorized)) {
      authorized = JSON.parse(localStorage.authorized);
    }
    if (authorized === undefined) {
      return;
    }
    for (const authName of schemaAuthNames) {
      const authDef = authorized[authName];
      if (authDef === undefined || authDef.schema === undefined) {
        continue;
      }
      if (authDef.schema.type === "http" && authDef.schema.scheme === "bearer") {
        request.headers["Authorization"] = "Bearer " + authDef.value;
        return;
      } else if (authDef.schema.type === "http" && authDef.schema.scheme === "basic") {
        request.headers["Authorization"] = "Basic " + btoa(authDef.value.username + ":" + authDef.value.password);
        return;
      } else if (authDef.schema.type === "apiKey" && authDef.schema.in === "header") {
        request.headers[authDef.schema.name] = authDef.value;
        return;
      } else if (authDef.schema.type === "oauth2" && authDef.token.token_type === "Bearer") {
        request.headers["Authorization"] = `Bearer ${authDef.token.access_token}`;
        return;
      }
    }
  };

  const requestInterceptor = (request) => {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed) {
      try {
        injectAuthCredentials(request);
      } catch (e) {
        console.error("schema auth injection failed with error: ", e);
      }
    }
    // Selectively omit adding headers to mitigate CORS issues.
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[config.csrfHeaderName] = config.csrfToken;
    }
    return request;
  };

  ui = SwaggerUIBundle({
    url: config.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    plugins,
    layout: "BaseLayout",
    requestInterceptor,
    responseInterceptor,
    ...config.settings,
  });
  if (config.oauth2Config) {
    ui.initOAuth(config.oauth2Config);
  }
})();
