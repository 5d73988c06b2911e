/* The public lead form: details → e-mailed code (or link) → confirm → done, through the JSON API.
 *
 * Progress is kept in sessionStorage so a reload does not lose it. The e-mailed link carries
 * "#lead=<id>&token=<token>" in the fragment (never sent to the server, kept out of logs); the
 * page verifies with it and removes it from the address bar.
 */
(function () {
  "use strict";

  var main = document.getElementById("main");
  var API = main.getAttribute("data-api");
  var STORE = "hotlead.leadForm";
  var STEPS = ["details", "code", "confirm", "done"];
  var status = document.getElementById("form-status");
  var alertBox = document.getElementById("form-alert");
  var state = load();

  function load() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE)) || {};
    } catch (e) {
      return {};
    }
  }

  function save() {
    try {
      sessionStorage.setItem(STORE, JSON.stringify(state));
    } catch (e) { /* private mode: progress is simply not kept */ }
  }

  function show(step, options) {
    STEPS.forEach(function (name) {
      document.getElementById("step-" + name).hidden = name !== step;
    });
    state.step = step;
    save();
    if (!options || options.focus !== false) {
      var heading = document.querySelector("#step-" + step + " h1");
      if (heading) heading.focus();
    }
  }

  function say(message) {
    status.textContent = message || "";
  }

  function showAlert(message) {
    alertBox.textContent = message || "";
    alertBox.hidden = !message;
  }

  function clearErrors(scope) {
    scope.querySelectorAll(".field-error").forEach(function (el) {
      el.textContent = "";
      el.hidden = true;
    });
    scope.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
    showAlert("");
  }

  // An API error: messages next to the fields it names, anything else in the alert box.
  function showErrors(scope, error, status) {
    var fields = (error && error.details && error.details.fields) || [];
    var first = null;
    var unplaced = [];
    fields.forEach(function (f) {
      var holder = scope.querySelector("#error-" + cssEscape(f.field));
      if (!holder) {
        unplaced.push(f.message);
        return;
      }
      holder.textContent = f.message;
      holder.hidden = false;
      var input = scope.querySelector("[aria-describedby~='error-" + f.field + "']");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    });
    if (status === 429) {
      showAlert(error.message + " " + retryText(error));
    } else if (!fields.length || unplaced.length) {
      showAlert(unplaced.length ? unplaced.join(" ") : (error && error.message) || "Something went wrong.");
    }
    if (first) first.focus();
  }

  function retryText(error) {
    var seconds = (error.details && error.details.retry_after) || 60;
    var minutes = Math.ceil(seconds / 60);
    return "Try again in " + minutes + (minutes === 1 ? " minute." : " minutes.");
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : String(value).replace(/[^a-zA-Z0-9_-]/g, "\\$&");
  }

  function post(path, body) {
    return fetch(API + path, {
      method: "POST",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {ok: response.ok, status: response.status, data: data};
      });
    }, function () {
      return {ok: false, status: 0, data: {error: {message: "We could not reach the server. Check your connection and try again."}}};
    });
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  // --- step 1: details ---------------------------------------------------------------------------
  var detailsForm = document.getElementById("details-form");
  detailsForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(detailsForm);
    var button = detailsForm.querySelector("button[type=submit]");
    var value = function (name) { return detailsForm.elements[name].value; };
    var params = new URLSearchParams(window.location.search);
    var body = {
      name: value("name"),
      email: value("email"),
      phone: value("phone"),
      postal_code: value("postal_code"),
      category: value("category"),
      description: value("description"),
      consent: detailsForm.elements.consent.checked,
      source: "web"
    };
    var budget = value("budget").trim();
    if (budget !== "") {
      // "$1,500" and "1500" mean the same: drop the dollar sign, spaces and thousands separators
      var dollars = Number(budget.replace(/[$,\s]/g, ""));
      body.budget_cents = budget.replace(/[$,\s]/g, "") !== "" && isFinite(dollars) ? Math.round(dollars * 100) : -1;
    }
    if (value("timeline")) body.timeline = value("timeline");
    ["utm_source", "utm_medium", "utm_campaign"].forEach(function (key) {
      if (params.get(key)) body[key] = params.get(key).slice(0, 100);
    });
    if (document.referrer) body.referrer = document.referrer.slice(0, 500);
    busy(button, true);
    say("Sending your request…");
    post("/leads", body).then(function (result) {
      busy(button, false);
      say("");
      if (!result.ok) {
        showErrors(detailsForm, result.data.error || {}, result.status);
        return;
      }
      state = {leadId: result.data.id, email: body.email.trim().toLowerCase()};
      document.getElementById("code-email").textContent = state.email;
      show("code");
      say("We sent a code to " + state.email + ".");
    });
  });

  // --- step 2: the code --------------------------------------------------------------------------
  var codeForm = document.getElementById("code-form");
  codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(codeForm);
    var code = codeForm.elements.code.value.replace(/\s+/g, "");
    if (!/^[0-9]{6}$/.test(code)) {
      showErrors(codeForm, {details: {fields: [{field: "code", message: "Enter the 6 digits from the e-mail."}]}});
      return;
    }
    verify({lead_id: state.leadId, code: code}, codeForm.querySelector("button[type=submit]"));
  });

  function verify(body, button) {
    if (button) busy(button, true);
    say("Checking…");
    return post("/leads/verify", body).then(function (result) {
      if (button) busy(button, false);
      say("");
      if (!result.ok) {
        if (result.status === 409) {
          showAlert("This request cannot be verified any more (it may be verified already, or expired). Start over if needed.");
          return;
        }
        showErrors(codeForm, result.data.error || {}, result.status);
        return;
      }
      state.confirmToken = result.data.confirm_token;
      state.summary = result.data.lead;
      renderSummary();
      show("confirm");
    });
  }

  document.getElementById("resend").addEventListener("click", function (event) {
    clearErrors(codeForm);
    var button = event.currentTarget;
    busy(button, true);
    post("/leads/resend-code", {lead_id: state.leadId}).then(function (result) {
      busy(button, false);
      if (!result.ok) {
        showErrors(codeForm, result.data.error || {}, result.status);
        return;
      }
      codeForm.elements.code.value = "";
      say("We sent a new code" + (state.email ? " to " + state.email : "") + ". The previous one no longer works.");
      codeForm.elements.code.focus();
    });
  });

  // --- step 3: confirm ---------------------------------------------------------------------------
  var TIMELINES = {asap: "As soon as possible", within_month: "Within a month", flexible: "Flexible"};

  function renderSummary() {
    var s = state.summary || {};
    var rows = [
      ["Name", s.name], ["E-mail", s.email], ["Phone", s.phone], ["Service", s.category_name],
      ["Postal code", s.postal_code], ["What needs doing", s.description],
      ["Budget", s.budget_cents == null ? "—" : "$" + (s.budget_cents / 100).toLocaleString("en-US")],
      ["When", TIMELINES[s.timeline] || "No preference"]
    ];
    var list = document.getElementById("summary");
    list.textContent = "";
    rows.forEach(function (row) {
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = row[0];
      dd.textContent = row[1] == null ? "" : String(row[1]);
      list.appendChild(dt);
      list.appendChild(dd);
    });
  }

  var confirmStep = document.getElementById("step-confirm");
  document.getElementById("confirm").addEventListener("click", function (event) {
    clearErrors(confirmStep);
    var button = event.currentTarget;
    busy(button, true);
    say("Confirming…");
    post("/leads/confirm", {lead_id: state.leadId, confirm_token: state.confirmToken}).then(function (result) {
      busy(button, false);
      say("");
      if (!result.ok) {
        showErrors(confirmStep, result.data.error || {}, result.status);
        return;
      }
      document.getElementById("done-reference").textContent = result.data.reference || result.data.id;
      show("done");
      state = {step: "done", reference: result.data.reference || result.data.id};
      save();
    });
  });

  document.querySelectorAll(".start-over").forEach(function (button) {
    button.addEventListener("click", function () {
      state = {};
      save();
      clearErrors(document);
      say("");
      show("details");
    });
  });

  // --- where to start ------------------------------------------------------------------------------
  function verifyFromLink() {
    var hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    if (!hash.get("lead") || !hash.get("token")) return false;
    history.replaceState(null, "", window.location.pathname + window.location.search);
    state = {leadId: hash.get("lead")};
    clearErrors(document);
    show("code", {focus: false});
    verify({lead_id: state.leadId, token: hash.get("token")});
    return true;
  }

  window.addEventListener("hashchange", verifyFromLink);
  if (verifyFromLink()) {
    /* the e-mailed link */
  } else if (state.step === "confirm" && state.confirmToken) {
    renderSummary();
    show("confirm", {focus: false});
  } else if (state.step === "code" && state.leadId) {
    document.getElementById("code-email").textContent = state.email || "your address";
    show("code", {focus: false});
  } else if (state.step === "done" && state.reference) {
    document.getElementById("done-reference").textContent = state.reference;
    show("done", {focus: false});
  } else {
    show("details", {focus: false});
  }
})();
