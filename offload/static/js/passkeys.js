// Passkeys (WebAuthn): a form marked data-passkey="create" or "get" runs the browser's
// ceremony when submitted. It asks the server for the options (POST to
// data-passkey-options, with the page's CSRF token), calls navigator.credentials, puts
// the answer as JSON in the form's [data-passkey-credential] field and submits the
// form: the server checks it and answers with a page, as for any form.
// Without JavaScript (or WebAuthn) the forms stay hidden and the page's
// [data-passkey-fallback] text says passkeys need it; this script hides that text.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return; // the forms stay hidden: the code from the app works everywhere
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, {id: toBytes(c.id)});
    });
  }

  function publicKey(kind, options) {
    options.challenge = toBytes(options.challenge);
    if (kind === "create") {
      options.user.id = toBytes(options.user.id);
      options.excludeCredentials = withIds(options.excludeCredentials);
    } else {
      options.allowCredentials = withIds(options.allowCredentials);
    }
    return options;
  }

  function answer(credential) {
    var r = credential.response, response = {clientDataJSON: toText(r.clientDataJSON)};
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({id: credential.id, rawId: toText(credential.rawId),
                           type: credential.type, response: response,
                           clientExtensionResults: credential.getClientExtensionResults(),
                           authenticatorAttachment: credential.authenticatorAttachment});
  }

  function csrfToken(form) {
    var field = form.querySelector("input[name$='csrf_token']");
    return field ? field.value : "";
  }

  function run(form) {
    var kind = form.getAttribute("data-passkey");
    var problem = form.querySelector("[data-passkey-problem]");
    var button = form.querySelector("button[type=submit]");
    var name = form.querySelector("input[name=name]");
    form.addEventListener("submit", function (event) {
      if (name && !name.value.trim()) return; // the server says what is missing
      event.preventDefault();
      button.disabled = true;
      if (problem) problem.hidden = true;
      fetch(form.getAttribute("data-passkey-options"), {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(form), "Accept": "application/json"}
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.error || "The site could not start it.");
          return body;
        });
      }).then(function (options) {
        var request = {publicKey: publicKey(kind, options)};
        return kind === "create" ? navigator.credentials.create(request)
                                 : navigator.credentials.get(request);
      }).then(function (credential) {
        form.querySelector("[data-passkey-credential]").value = answer(credential);
        form.submit();
      }).catch(function (error) {
        button.disabled = false;
        if (problem) {
          problem.textContent = (error && error.name === "NotAllowedError")
            ? "No passkey was used: the browser's window was closed or timed out. Try again."
            : "That didn't work: " + ((error && error.message) || "try again.");
          problem.hidden = false;
        }
      });
    });
    form.hidden = false;
  }

  document.querySelectorAll("form[data-passkey]").forEach(run);
  document.querySelectorAll("[data-passkey-fallback]").forEach(function (note) {
    note.hidden = true;
  });
})();
