// The page: sign in with an API key, pick an installation (admin keys), and move between
// the playground, the runs and the catalog (the address's #/... part, so the browser's
// back button and links work).

import { ApiError, enc, get, session } from "./api.js";
import { CatalogView } from "./catalog.js";
import { clear, h } from "./dom.js";
import { Playground } from "./generate.js";
import { RunsList } from "./runs.js";
import { showRun } from "./timeline.js";

const $ = (selector) => document.querySelector(selector);

class App {
  constructor() {
    this.labelCache = new Map();
    this.playground = new Playground($("#view-generate"), this);
    this.runs = new RunsList($("#view-runs"), this);
    this.catalog = new CatalogView($("#view-catalog"), this);
    $("#signin-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.signIn($("#api-key").value.trim());
    });
    $("#signout").addEventListener("click", () => this.signOut());
    $("#installation").addEventListener("change", (e) => {
      this.installation = e.target.value;
      this.route();
    });
    window.addEventListener("hashchange", () => this.route());
    if (session.key) this.signIn(session.key);
    else this.showSignIn();
  }

  get labels() {
    return this.labelCache.get(this.installation) ?? {};
  }

  async ensureLabels() {
    await this.labelsFor(this.installation);
  }

  /** Catalog labels of an installation's steps and triggers, by name (for drawing). */
  async labelsFor(installation) {
    if (!this.labelCache.has(installation)) {
      const labels = {};
      try {
        for (const kind of ["triggers", "steps"]) {
          const items = await get(`/v1/installations/${enc(installation)}/catalog/items`, { kind });
          for (const item of items) if (item.label) labels[item.name] = item.label;
        }
      } catch {
        /* drawn with names instead */
      }
      this.labelCache.set(installation, labels);
    }
    return this.labelCache.get(installation);
  }

  showSignIn(message = "") {
    $("#signin").hidden = false;
    $("#workspace").hidden = true;
    $("#whoami").hidden = true;
    $("#signin-error").textContent = message;
    $("#api-key").focus();
  }

  async signIn(key) {
    if (!key) return this.showSignIn("Enter an API key.");
    session.key = key;
    let reach;
    try {
      reach = await get("/v1/installations");
    } catch (err) {
      session.key = null;
      const why = err instanceof ApiError && err.status === 401
        ? "That key is unknown or revoked." : err.message;
      return this.showSignIn(why);
    }
    $("#api-key").value = "";
    const ids = reach.installations.map((i) => i.installation);
    if (!ids.length) {
      session.key = null;
      return this.showSignIn("This key reaches no installation yet.");
    }
    const picker = $("#installation");
    clear(picker, ids.map((id) => h("option", { value: id }, id)));
    picker.disabled = !reach.admin;
    this.installation = ids.includes(this.installation) ? this.installation : ids[0];
    picker.value = this.installation;
    $("#key-kind").textContent = reach.admin ? "admin key" : "installation key";
    $("#signin").hidden = true;
    $("#workspace").hidden = false;
    $("#whoami").hidden = false;
    this.route();
  }

  signOut() {
    session.key = null;
    this.labelCache.clear();
    this.playground.reset();
    location.hash = "";
    this.showSignIn();
  }

  async route() {
    if (!session.key || $("#workspace").hidden) return;
    const [, view = "generate", id] = location.hash.split("/");
    const name = view === "runs" && id ? "run" : view;
    for (const section of document.querySelectorAll("[data-view]")) {
      section.hidden = section.dataset.view !== name;
    }
    for (const link of document.querySelectorAll("nav a")) {
      const current = link.dataset.nav === (name === "run" ? "runs" : name);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    $("#page-error").textContent = "";
    try {
      if (name === "runs") await this.runs.load();
      else if (name === "catalog") await this.catalog.load();
      else if (name === "run") {
        await showRun($("#view-run"), this, decodeURIComponent(id));
        $("#run-heading")?.focus();
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return this.showSignIn(err.message);
      if (name === "run") {
        clear($("#view-run"), h("h2", { tabindex: "-1", id: "run-heading" }, "Run not found"));
        $("#run-heading").focus();
      }
      $("#page-error").textContent = err.message;
    }
  }
}

window.flowgenApp = new App();
