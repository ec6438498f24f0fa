// The demo page: every button is one fetch() to the real API, logged with its method, path,
// status and JSON. Plain JavaScript, no build step. Tokens live in this tab's memory only.
"use strict";

const config = JSON.parse(document.getElementById("demo-config").textContent);
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const devices = { A: {}, B: {} }; // {email, access, refresh, previousRefresh}
let active = "A";
const other = () => (active === "A" ? "B" : "A");
const SECRET_FIELDS = ["password", "current_password", "new_password"];
const TOKEN_FIELDS = ["access", "refresh", "challenge", "id_token", "access_token", "code_verifier"];

// --- calls and the log ------------------------------------------------------------------------

function shorten(value) {
  return typeof value === "string" && value.length > 24 ? `${value.slice(0, 16)}…(${value.length} chars)` : value;
}

function forDisplay(data) {
  if (!data || typeof data !== "object" || Array.isArray(data)) return data;
  const shown = {};
  for (const [key, value] of Object.entries(data)) {
    if (SECRET_FIELDS.includes(key)) shown[key] = "••••••";
    else if (TOKEN_FIELDS.includes(key)) shown[key] = shorten(value);
    else shown[key] = value;
  }
  return shown;
}

function statusClass(status) {
  return status === 0 ? "s-err" : `s${String(status)[0]}xx`;
}

function logCall(entry) {
  const item = document.createElement("li");
  item.className = `call ${statusClass(entry.status)}`;
  item.dataset.method = entry.method;
  item.dataset.path = entry.path;
  item.dataset.status = String(entry.status);
  const line = document.createElement("div");
  line.className = "line";
  line.innerHTML = '<span class="method"></span> <code class="path"></code> <span class="status"></span> <span class="meta"></span>';
  $(".method", line).textContent = entry.method;
  $(".path", line).textContent = entry.path;
  $(".status", line).textContent = entry.status || "network error";
  $(".meta", line).textContent = [entry.device && `device ${entry.device}`, `${entry.ms} ms`, entry.retryAfter && `Retry-After: ${entry.retryAfter}`]
    .filter(Boolean)
    .join(" · ");
  item.append(line);
  if (entry.body !== undefined) {
    const request = document.createElement("pre");
    request.className = "request";
    request.textContent = JSON.stringify(forDisplay(entry.body), null, 2);
    item.append(request);
  }
  const response = document.createElement("pre");
  response.className = "response";
  response.textContent = entry.data === null ? "(no body)" : typeof entry.data === "string" ? entry.data : JSON.stringify(forDisplay(entry.data), null, 2);
  item.append(response);
  const log = $("#log");
  log.prepend(item);
  while (log.children.length > 60) log.lastElementChild.remove();
}

// One API call: `path` is relative to the API root (e.g. "login/"), `device` adds its bearer token.
async function call(method, path, { body, device, quiet, retried } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = device && devices[device].access;
  if (token) headers.Authorization = `Bearer ${token}`;
  const started = performance.now();
  let response;
  try {
    response = await fetch(config.api + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    logCall({ method, path: config.api + path, status: 0, ms: 0, body, data: String(error), device });
    return { status: 0, data: null };
  }
  const text = await response.text();
  let data = text ? text : null;
  const json = (response.headers.get("Content-Type") || "").includes("application/json");
  if (json && text) data = JSON.parse(text);
  const entry = {
    method, path: config.api + path, status: response.status, body, data: json ? data : text ? `(${response.headers.get("Content-Type")}, ${text.length} bytes)` : null,
    device: token ? device : undefined, ms: Math.round(performance.now() - started), retryAfter: response.headers.get("Retry-After"),
  };
  if (!quiet) logCall(entry);
  if (response.status === 404 && !json) hidePanelsFor([path]); // Django's page: no such endpoint
  // A change to how the user signs in, without a recent sign-in: ask, then try once more.
  if (response.status === 403 && json && data && data.code === "reauthentication_required" && token && !retried) {
    if (await reauthenticate(device, data.methods || [])) return call(method, path, { body, device, quiet, retried: true });
  }
  return { status: response.status, data: json ? data : null };
}

// The reauthentication prompt: resolves true once POST reauth/ passed, false on cancel.
function reauthenticate(device, methods) {
  const box = $("#reauth");
  const select = $("#reauth-method");
  select.replaceChildren(...methods.map((m) => Object.assign(document.createElement("option"), { value: m, textContent: m })));
  $("#reauth-secret").value = "";
  $("#reauth-result").textContent = "";
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
  $("#reauth-secret").focus();
  return new Promise((resolve) => {
    const done = (ok) => {
      box.hidden = true;
      $("#reauth-submit").onclick = $("#reauth-cancel").onclick = null;
      resolve(ok);
    };
    $("#reauth-cancel").onclick = () => done(false);
    $("#reauth-submit").onclick = async () => {
      const method = select.value;
      const secret = $("#reauth-secret").value;
      const body = method === "password" ? { password: secret } : secret ? { method, code: secret } : { method };
      const result = await call("POST", "reauth/", { device, body, retried: true });
      const output = $("#reauth-result");
      output.className = `result ${statusClass(result.status)}`;
      if (result.status === 200) return done(true);
      output.textContent = result.status === 202 ? "code sent: enter it above" : `${result.status} ${(result.data && result.data.code) || ""}`;
    };
  });
}

const missingPaths = new Set();

function hidePanelsFor(paths) {
  for (const path of paths) missingPaths.add(path);
  for (const node of $$("[data-requires]")) if (missingPaths.has(node.dataset.requires)) node.hidden = true;
  $$(".panel:not([hidden]) .step").forEach((step, index) => {
    step.textContent = String(index + 1);
  });
  if (missingPaths.size) {
    const note = $("#missing");
    note.hidden = false;
    note.textContent = `Not in this version of the API (404), so hidden: ${[...missingPaths].sort().join(", ")}`;
  }
}

function show(button, result, note = "") {
  const output = $("output.result", button.closest(".panel"));
  if (!output) return;
  const { status, data } = result;
  const summary = data && (data.code || data.detail) ? ` ${data.code || ""} ${data.code && data.detail ? "—" : ""} ${data.detail || ""}` : "";
  output.className = `result ${statusClass(status)}`;
  output.textContent = `${status || "network error"}${summary}${note ? ` · ${note}` : ""}`;
}

function showRecoveryCodes(codes) {
  $("#recovery-codes").replaceChildren(...codes.map((code) => Object.assign(document.createElement("li"), { textContent: code })));
  $("#recovery").hidden = false;
}

// --- devices -----------------------------------------------------------------------------------

function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
  } catch {
    return {};
  }
}

function store(device, pair, email) {
  const slot = devices[device];
  if (pair.refresh && slot.refresh && slot.refresh !== pair.refresh) slot.previousRefresh = slot.refresh;
  Object.assign(slot, { access: pair.access, refresh: pair.refresh, loggedOut: false });
  if (email) slot.email = email;
  renderDevices();
}

function renderDevices() {
  for (const name of ["A", "B"]) {
    const card = $(`#device-${name}`);
    const slot = devices[name];
    card.classList.toggle("active", name === active);
    card.classList.toggle("signed-in", Boolean(slot.access));
    const who = slot.email || "?";
    $(".device-state", card).textContent = !slot.access ? "signed out" : slot.loggedOut ? `logged out (${who}; its tokens are kept to show they are refused)` : `signed in as ${who}`;
    const c = slot.access ? claims(slot.access) : {};
    $(".device-claims", card).textContent = slot.access ? `session ${String(c.fam || "").slice(0, 8)} · access expires ${new Date(c.exp * 1000).toLocaleTimeString()}` : "";
  }
}

function requireDevice(button) {
  if (devices[active].access) return true;
  show(button, { status: 0, data: { detail: `Device ${active} is signed out: sign up, verify or log in first.` } });
  return false;
}

// --- the mailbox -------------------------------------------------------------------------------

let mailMark = null; // id of the newest message seen before the last call that sends mail

async function markMailbox() {
  if (!config.mailbox) return;
  const response = await fetch(`${config.mailbox}?limit=1`);
  const { messages } = await response.json();
  mailMark = messages.length ? messages[0].id : "";
}

// The newest message with a code for `email` that arrived after the last mark. Mail leaves off
// the request path, so it lands a moment after the API's answer: poll briefly.
async function waitForCode(email) {
  const target = (email || "").trim().toLowerCase();
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    const query = mailMark ? `?after=${encodeURIComponent(mailMark)}` : "";
    const { messages } = await (await fetch(config.mailbox + query)).json();
    const found = messages.find((m) => m.code && (!target || m.to.map((t) => t.toLowerCase()).includes(target)));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

function renderMail(message) {
  const box = $("#mailbox-latest");
  if (!box) return;
  box.hidden = false;
  box.replaceChildren();
  const head = document.createElement("div");
  head.className = "mail-head";
  head.textContent = `To ${message.to.join(", ")} · ${message.subject} · ${new Date(message.sent).toLocaleTimeString()}`;
  const code = document.createElement("div");
  code.className = "mail-code";
  code.textContent = message.code ? `code ${message.code}` : "no code in this message";
  box.append(head, code);
}

async function fillFromMailbox(button) {
  const emailRef = button.dataset.email;
  const email = emailRef === "@device" ? devices[active].email : $(emailRef).value;
  const output = $("output.result", button.closest(".panel"));
  output.textContent = `waiting for a code to ${email || "anyone"}…`;
  const message = await waitForCode(email);
  if (!message) {
    output.textContent = `no new code for ${email} in the mailbox (see /dev/mailbox/)`;
    return;
  }
  $(button.dataset.code).value = message.code;
  output.textContent = `code ${message.code} read from the mailbox: "${message.subject}"`;
  renderMail(message);
}

// --- the flows ---------------------------------------------------------------------------------

const value = (selector) => $(selector).value.trim();
const raw = (selector) => $(selector).value; // passwords are not trimmed
let loginChallenge = null;
let loginEmail = null;

// --- passkeys (WebAuthn) -----------------------------------------------------------------------
// The server speaks WebAuthn's JSON forms: PublicKeyCredential.parseCreationOptionsFromJSON /
// parseRequestOptionsFromJSON turn them into what navigator.credentials wants, and
// credential.toJSON() back. Browsers without them get the small fallback below (base64url).

const b64urlToBuffer = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=")), (c) => c.charCodeAt(0)).buffer;
const bufferToB64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: b64urlToBuffer(json.challenge),
    user: { ...json.user, id: b64urlToBuffer(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: b64urlToBuffer(c.id) })),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return { ...json, challenge: b64urlToBuffer(json.challenge), allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: b64urlToBuffer(c.id) })) };
}

function credentialJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: bufferToB64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = bufferToB64url(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = bufferToB64url(r.authenticatorData);
    response.signature = bufferToB64url(r.signature);
    if (r.userHandle) response.userHandle = bufferToB64url(r.userHandle);
  }
  return { id: credential.id, rawId: bufferToB64url(credential.rawId), type: credential.type, response, clientExtensionResults: credential.getClientExtensionResults(), authenticatorAttachment: credential.authenticatorAttachment };
}

// What navigator.credentials refused, as a result line (the user cancelled, no authenticator...).
const webauthnError = (error) => ({ status: 0, data: { detail: `${error.name}: ${error.message}` } });

let loginPasskeyOptions = null;

// A sign-in answer (login/, login/code/confirm/): the pair, or the second step of the login panel.
function secondStep(button, result, email, device = active) {
  $("#login-otp").hidden = result.status !== 202;
  if (result.status === 202) {
    loginChallenge = result.data.challenge;
    loginPasskeyOptions = result.data.publicKey || null;
    loginEmail = email;
    const methods = result.data.methods || ["email"];
    const select = $("#login-method");
    select.replaceChildren(...methods.map((m) => new Option(m, m)));
    const emailed = methods.includes("email");
    $("#login-otp-note").textContent = emailed
      ? "Second factor: a code went to the account's address."
      : methods.includes("passkey")
        ? "Second factor: choose passkey and press login/verify/ (no code needed), or use the authenticator app's code or a recovery code."
        : "Second factor: the authenticator app's code, or one recovery code (no email was sent).";
    show(button, result, emailed ? "second factor: enter the emailed code" : `second factor: ${methods.join(" or ")}`);
  } else {
    show(button, result, result.status === 200 ? `device ${device} signed in` : "");
  }
  if (result.status === 200) store(device, result.data, email);
  return result;
}

const flows = {
  async signup(button) {
    const email = value("#signup-email");
    await markMailbox();
    const result = await call("POST", "signup/", { body: { email, password: raw("#signup-password") } });
    show(button, result);
    if (result.status === 202) {
      for (const field of ["#verify-email", "#reset-email", "#code-login-email"]) $(field).value = email;
      $("#login-email").value = email;
      $("#login-password").value = raw("#signup-password");
    }
  },
  async verify(button) {
    const email = value("#verify-email");
    const result = await call("POST", "email/verify/", { body: { email, code: value("#verify-code") } });
    show(button, result, result.status === 200 ? `device ${active} signed in` : "");
    if (result.status === 200) store(active, result.data, email);
  },
  async resendVerification(button) {
    await markMailbox();
    show(button, await call("POST", "otp/", { body: { email: value("#verify-email"), purpose: "email_verification" } }));
  },
  async codeLogin(button) {
    await markMailbox();
    show(button, await call("POST", "login/code/", { body: { email: value("#code-login-email") } }));
  },
  async codeLoginConfirm(button) {
    const email = value("#code-login-email");
    const result = await call("POST", "login/code/confirm/", { body: { email, code: value("#code-login-code") } });
    secondStep(button, result, email);
  },
  async login(button, device = active) {
    const email = value("#login-email");
    await markMailbox();
    const result = await call("POST", "login/", { body: { email, password: raw("#login-password") } });
    return secondStep(button, result, email, device);
  },
  async loginVerify(button) {
    const body = { challenge: loginChallenge, code: value("#login-code"), method: $("#login-method").value };
    if (body.method === "passkey") {
      delete body.code;
      // The 202's options serve one answer for 5 minutes: after that, new ones for this challenge.
      let options = loginPasskeyOptions;
      loginPasskeyOptions = null;
      if (!options) {
        const fresh = await call("POST", "passkeys/login/options/", { body: { challenge: loginChallenge } });
        if (fresh.status !== 200) {
          show(button, fresh);
          return;
        }
        options = fresh.data.publicKey;
      }
      try {
        const assertion = await navigator.credentials.get({ publicKey: requestOptions(options) });
        body.credential = credentialJSON(assertion);
      } catch (error) {
        show(button, webauthnError(error));
        return;
      }
    }
    const result = await call("POST", "login/verify/", { body });
    show(button, result, result.status === 200 ? `device ${active} signed in` : "");
    if (result.status === 200) {
      store(active, result.data, loginEmail);
      $("#login-otp").hidden = true;
    }
  },
  async resendLogin(button) {
    await markMailbox();
    show(button, await call("POST", "otp/", { body: { email: loginEmail, purpose: "login", challenge: loginChallenge } }));
  },
  async twofaEnable(button) {
    if (!requireDevice(button)) return;
    await markMailbox();
    show(button, await call("POST", "2fa/email/enable/", { device: active, body: {} }));
  },
  async twofaConfirm(button) {
    if (!requireDevice(button)) return;
    show(button, await call("POST", "2fa/email/confirm/", { device: active, body: { code: value("#twofa-code") } }));
  },
  async twofaDisable(button) {
    if (!requireDevice(button)) return;
    show(button, await call("POST", "2fa/email/disable/", { device: active, body: { password: raw("#twofa-password") } }));
  },
  async factors(button) {
    if (!requireDevice(button)) return;
    const result = await call("GET", "2fa/", { device: active });
    show(button, result, result.status === 200 ? `methods: ${result.data.methods.join(", ") || "none"} · recovery codes left: ${result.data.recovery_codes_left}` : "");
  },
  async totpSetup(button) {
    if (!requireDevice(button)) return;
    const result = await call("POST", "2fa/totp/setup/", { device: active, body: {} });
    show(button, result, result.status === 200 ? "scan the QR code, then enter the app's code" : "");
    if (result.status !== 200) return;
    // The server's own SVG (segno), parsed as SVG rather than injected as HTML.
    const svg = new DOMParser().parseFromString(result.data.qr_svg, "image/svg+xml").documentElement;
    $("#totp-qr").replaceChildren(document.importNode(svg, true));
    $("#totp-secret").textContent = result.data.secret;
    $("#totp-enrol").hidden = false;
  },
  async totpConfirm(button) {
    if (!requireDevice(button)) return;
    const result = await call("POST", "2fa/totp/confirm/", { device: active, body: { code: value("#totp-code") } });
    show(button, result, result.status === 200 ? "authenticator on; other sessions signed out" : "");
    if (result.status === 200) {
      store(active, result.data);
      showRecoveryCodes(result.data.recovery_codes);
      $("#totp-enrol").hidden = true;
    }
  },
  async recoveryCodes(button) {
    if (!requireDevice(button)) return;
    const result = await call("POST", "2fa/recovery-codes/", { device: active, body: {} });
    show(button, result, result.status === 200 ? "a new set; the old codes are dead" : "");
    if (result.status === 200) {
      store(active, result.data);
      showRecoveryCodes(result.data.recovery_codes);
    }
  },
  async totpDisable(button) {
    if (!requireDevice(button)) return;
    const result = await call("POST", "2fa/totp/disable/", { device: active, body: {} });
    show(button, result, result.status === 200 ? "authenticator off" : "");
    if (result.status === 200) {
      store(active, result.data);
      $("#recovery").hidden = true;
    }
  },
  async passkeyAdd(button) {
    if (!requireDevice(button)) return;
    const options = await call("POST", "passkeys/register/options/", { device: active, body: {} });
    if (options.status !== 200) return show(button, options);
    let credential;
    try {
      credential = await navigator.credentials.create({ publicKey: creationOptions(options.data.publicKey) });
    } catch (error) {
      return show(button, webauthnError(error));
    }
    const body = { credential: credentialJSON(credential), name: value("#passkey-name") || "Demo passkey" };
    const result = await call("POST", "passkeys/", { device: active, body });
    show(button, result, result.status === 201 ? `passkey "${result.data.name}" added; other sessions signed out` : "");
    if (result.status === 201) store(active, result.data);
  },
  async passkeyLogin(button) {
    const email = value("#passkey-email");
    const options = await call("POST", "passkeys/login/options/", { body: email ? { email } : {} });
    if (options.status !== 200) return show(button, options);
    let assertion;
    try {
      assertion = await navigator.credentials.get({ publicKey: requestOptions(options.data.publicKey) });
    } catch (error) {
      return show(button, webauthnError(error));
    }
    const result = await call("POST", "passkeys/login/", { body: { credential: credentialJSON(assertion) } });
    if (result.status === 200) {
      store(active, result.data);
      const me = await call("GET", "me/", { device: active });
      if (me.status === 200) store(active, result.data, me.data.email);
    }
    show(button, result, result.status === 200 ? `device ${active} signed in with a passkey (amr ${claims(result.data.access).amr})` : "");
  },
  async passkeyList(button) {
    if (!requireDevice(button)) return;
    const result = await call("GET", "passkeys/", { device: active });
    show(button, result, result.status === 200 ? `${result.data.length} passkey(s): ${result.data.map((p) => p.name).join(", ")}` : "");
  },
  async me(button) {
    if (!requireDevice(button)) return;
    const result = await call("GET", "me/", { device: active });
    show(button, result, result.status === 200 ? `${result.data.email} (user ${result.data.id})` : "");
  },
  async refresh(button) {
    if (!requireDevice(button)) return;
    const result = await call("POST", "token/refresh/", { body: { refresh: devices[active].refresh } });
    show(button, result, result.status === 200 ? "new pair; the old refresh token is dead" : "");
    if (result.status === 200) store(active, result.data);
  },
  async replay(button) {
    const previous = devices[active].previousRefresh;
    if (!previous) {
      show(button, { status: 0, data: { detail: "Refresh once first: there is no rotated token to replay yet." } });
      return;
    }
    const result = await call("POST", "token/refresh/", { body: { refresh: previous } });
    show(button, result, result.status === 401 ? "the whole session is revoked: try me/" : "");
  },
  async otherDeviceLogin(button) {
    const from = devices[active];
    const email = from.email || value("#login-email");
    if (!email) {
      show(button, { status: 0, data: { detail: "Log in on this device first." } });
      return;
    }
    $("#login-email").value = email;
    const result = await flows.login(button, other());
    if (result.status === 202) show(button, result, "second factor: finish in panel 4 (select the other device first)");
  },
  async checkBoth(button) {
    const statuses = [];
    for (const name of ["A", "B"]) {
      if (!devices[name].access) {
        statuses.push(`${name}: signed out`);
        continue;
      }
      const result = await call("GET", "me/", { device: name });
      statuses.push(`${name}: ${result.status}${result.data && result.data.code ? ` ${result.data.code}` : ""}`);
    }
    const output = $("output.result", button.closest(".panel"));
    output.className = "result";
    output.textContent = statuses.join(" · ");
  },
  async activity(button) {
    if (!requireDevice(button)) return;
    const result = await call("GET", "account/activity/?limit=20", { device: active });
    show(button, result, result.status === 200 ? `${result.data.length} events` : "");
    if (result.status !== 200) return;
    const cell = (text) => Object.assign(document.createElement("td"), { textContent: text || "—" });
    $("#activity-table tbody").replaceChildren(
      ...result.data.map((e) => {
        const row = document.createElement("tr");
        row.append(cell(new Date(e.at).toLocaleString()), cell(e.type), cell(e.method), cell(e.ip), cell(e.user_agent));
        return row;
      }),
    );
    $("#activity-table").hidden = false;
  },
  async sessions(button) {
    if (!requireDevice(button)) return;
    const result = await call("GET", "sessions/", { device: active });
    show(button, result);
    if (result.status === 200) renderSessions(Array.isArray(result.data) ? result.data : result.data.results || []);
  },
  async revokeOthers(button) {
    if (!requireDevice(button)) return;
    show(button, await call("POST", "sessions/revoke-others/", { device: active, body: {} }));
  },
  async logout(button) {
    if (!requireDevice(button)) return;
    const result = await call("POST", "logout/", { device: active, body: { refresh: devices[active].refresh } });
    show(button, result, result.status === 204 ? `device ${active}'s session is revoked` : "");
    if (result.status === 204) keepRevoked(active);
  },
  async logoutAll(button) {
    if (!requireDevice(button)) return;
    const result = await call("POST", "logout/all/", { device: active, body: {} });
    show(button, result, result.status === 204 ? "every token of the user is revoked, on every device" : "");
  },
  async resetRequest(button) {
    await markMailbox();
    show(button, await call("POST", "password/reset/", { body: { email: value("#reset-email") } }));
  },
  async resetConfirm(button) {
    const body = { email: value("#reset-email"), code: value("#reset-code"), new_password: raw("#reset-new") };
    const result = await call("POST", "password/reset/confirm/", { body });
    show(button, result, result.status === 200 ? "every device was signed out" : "");
    if (result.status === 200) {
      $("#login-email").value = body.email;
      $("#login-password").value = body.new_password;
    }
  },
  async passwordChange(button) {
    if (!requireDevice(button)) return;
    const body = { current_password: raw("#change-current"), new_password: raw("#change-new") };
    const result = await call("POST", "password/change/", { device: active, body });
    show(button, result, result.status === 200 ? `other sessions revoked; device ${active} got a fresh pair` : "");
    if (result.status === 200 && result.data.access) store(active, result.data);
  },
  async emailChange(button) {
    if (!requireDevice(button)) return;
    await markMailbox();
    show(button, await call("POST", "email/change/", { device: active, body: { new_email: value("#email-new"), password: raw("#email-password") } }));
  },
  async emailConfirm(button) {
    if (!requireDevice(button)) return;
    const email = value("#email-new");
    const result = await call("POST", "email/change/confirm/", { device: active, body: { new_email: email, code: value("#email-code") } });
    show(button, result);
    if (result.status === 200 && result.data.access) store(active, result.data, email);
  },
  async deleteAccount(button) {
    if (!requireDevice(button)) return;
    if (!window.confirm(`Delete ${devices[active].email}?`)) return;
    const result = await call("POST", "account/delete/", { device: active, body: { password: raw("#delete-password") } });
    show(button, result);
  },
};

// A logged-out device keeps its (now revoked) tokens so "me/ on both devices" can show the 401.
function keepRevoked(device) {
  devices[device].loggedOut = true;
  renderDevices();
}

function renderSessions(sessions) {
  const table = $("#sessions-table");
  const body = $("tbody", table);
  body.replaceChildren();
  for (const session of sessions) {
    const row = document.createElement("tr");
    for (const text of [
      `${String(session.id).slice(0, 8)}${session.current ? " (this device)" : ""}`,
      session.created ? new Date(session.created).toLocaleTimeString() : "",
      session.last_used ? new Date(session.last_used).toLocaleTimeString() : "",
      [session.user_agent, session.ip].filter(Boolean).join(" · "),
    ]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const action = document.createElement("td");
    const button = document.createElement("button");
    button.className = "secondary";
    button.textContent = `DELETE sessions/${String(session.id).slice(0, 8)}…/`;
    button.addEventListener("click", async () => {
      show(button, await call("DELETE", `sessions/${encodeURIComponent(session.id)}/`, { device: active }));
      await flows.sessions($("#sessions-btn"));
      refreshKeys();
    });
    action.append(button);
    row.append(action);
    body.append(row);
  }
  table.hidden = false;
}

// --- Redis keys --------------------------------------------------------------------------------

let keysShownAt = 0;
let keysShown = [];

async function refreshKeys() {
  if (!config.redis_keys) return;
  const slot = devices[active];
  const tbody = $("#keys-table tbody");
  $("#keys-owner").textContent = slot.email ? `${slot.email} (device ${active})` : "the selected device's user";
  if (!slot.access) {
    keysShown = [];
    tbody.innerHTML = '<tr><td colspan="4" class="hint">sign in to see keys</td></tr>';
    return;
  }
  const response = await fetch(config.redis_keys, { headers: { Authorization: `Bearer ${slot.access}`, Accept: "application/json" } });
  const data = await response.json();
  if (response.status !== 200) {
    keysShown = [];
    tbody.innerHTML = '<tr><td colspan="4" class="hint"></td></tr>';
    $("td", tbody).textContent = `${response.status} ${data.code || ""}: this device's token no longer works`;
    return;
  }
  keysShown = data.keys;
  keysShownAt = Date.now();
  renderKeys();
}

function ttlText(ms) {
  if (ms < 0) return "never (!)";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function renderKeys() {
  const tbody = $("#keys-table tbody");
  if (!tbody || !keysShown.length) return;
  const elapsed = Date.now() - keysShownAt;
  tbody.replaceChildren();
  for (const key of keysShown) {
    const row = document.createElement("tr");
    row.dataset.key = key.key;
    const left = key.ttl_ms < 0 ? -1 : key.ttl_ms - elapsed;
    for (const text of [key.key, key.type, ttlText(left), key.label]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    tbody.append(row);
  }
}

// --- wiring ------------------------------------------------------------------------------------

// Endpoints other versions may not have: a panel (or row) whose endpoint answers 404 is hidden.
async function hideMissing() {
  const required = new Set($$("[data-requires]").map((node) => node.dataset.requires));
  const missing = [];
  await Promise.all(
    [...required].map(async (path) => {
      const response = await fetch(config.api + path, { method: "OPTIONS" });
      if (response.status === 404) missing.push(path);
    }),
  );
  hidePanelsFor(missing);
  document.body.dataset.ready = "true";
}

async function googleReturn() {
  // google/callback/ redirects back with a one-time exchange code in the fragment.
  // Success: #code=<one-time exchange code>; failure: #error=<error code>.
  const params = new URLSearchParams(window.location.hash.slice(1));
  const code = params.get("code");
  const error = params.get("error");
  if (!code && !error) return;
  history.replaceState(null, "", window.location.pathname + window.location.search);
  if (error) {
    show($("#panel-google h2"), { status: 0, data: { code: error, detail: "Google sign-in did not complete" } });
    return;
  }
  const result = await call("POST", "google/exchange/", { body: { code } });
  show($("#panel-google h2"), result, result.status === 200 ? `device ${active} signed in with Google` : "");
  if (result.status === 200) {
    store(active, result.data);
    const me = await call("GET", "me/", { device: active });
    if (me.status === 200) store(active, result.data, me.data.email);
  }
}

// Browsers refuse an IP address as WebAuthn RP id: say where the passkey panel works.
function passkeyNotice() {
  const note = $("#passkey-note");
  if (!note) return;
  if (!window.PublicKeyCredential) {
    note.textContent = "This browser has no WebAuthn (PublicKeyCredential): passkeys cannot work here.";
    note.hidden = false;
  } else if (location.hostname !== config.passkeyRpId) {
    const url = `${location.protocol}//${config.passkeyRpId}${location.port ? `:${location.port}` : ""}${location.pathname}`;
    note.innerHTML = 'Passkeys are bound to the site\'s name (RP id <code></code>); browsers refuse an IP address. Open <a></a> to use them.';
    $("code", note).textContent = config.passkeyRpId;
    Object.assign($("a", note), { href: url, textContent: url });
    note.hidden = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#signup-email").value = `user-${Math.random().toString(36).slice(2, 8)}@example.com`;
  for (const button of $$("[data-call]")) {
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        await flows[button.dataset.call](button);
      } finally {
        button.disabled = false;
        refreshKeys();
      }
    });
  }
  for (const button of $$(".mailbox-fill")) {
    if (config.mailbox) button.addEventListener("click", () => fillFromMailbox(button));
    else button.hidden = true; // no development mailbox with DEBUG off
  }
  for (const button of $$("[data-fill-login]")) {
    button.addEventListener("click", () => {
      $("#login-email").value = button.dataset.fillLogin;
      $("#login-password").value = button.dataset.password;
      $("#reset-email").value = button.dataset.fillLogin;
      $("#code-login-email").value = button.dataset.fillLogin;
    });
  }
  $("#login-fill-signup").addEventListener("click", () => {
    $("#login-email").value = value("#signup-email");
    $("#login-password").value = raw("#signup-password");
  });
  for (const radio of $$("input[name=device]")) {
    radio.addEventListener("change", () => {
      active = radio.value;
      renderDevices();
      refreshKeys();
    });
  }
  const read = $("#mailbox-read");
  if (read) {
    read.addEventListener("click", async () => {
      const { messages } = await (await fetch(`${config.mailbox}?limit=1`)).json();
      if (messages.length) renderMail(messages[0]);
    });
  }
  const keys = $("#keys-refresh");
  if (keys) keys.addEventListener("click", refreshKeys);
  $("#log-clear").addEventListener("click", () => $("#log").replaceChildren());
  setInterval(renderKeys, 1000);
  renderDevices();
  hideMissing();
  passkeyNotice();
  googleReturn();
});
