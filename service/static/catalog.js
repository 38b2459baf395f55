// The installation's catalog at a glance: counts per kind and the last sync, then its
// steps, tables and triggers, searched with the same search the generator uses.

import { enc, get } from "./api.js";
import { clear, h, when } from "./dom.js";

const KINDS = ["triggers", "steps", "tables", "columns", "choices"];

export class CatalogView {
  constructor(root, app) {
    this.app = app;
    this.summary = root.querySelector("#catalog-summary");
    this.form = root.querySelector("#catalog-search");
    this.results = root.querySelector("#catalog-results");
    this.status = root.querySelector("#catalog-status");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.search();
    });
    this.form.querySelector("select").addEventListener("change", () => this.search());
  }

  async load() {
    const id = this.app.installation;
    const info = await get(`/v1/installations/${enc(id)}/catalog`);
    const counts = info.counts ?? {};
    clear(
      this.summary,
      h("dl", { class: "totals" },
        h("dt", {}, "Installation"), h("dd", {}, info.installation),
        h("dt", {}, "Last sync"), h("dd", {}, info.synced_at ? when(info.synced_at) : "never"),
        h("dt", {}, "Source"), h("dd", {}, info.source ?? "—"),
        KINDS.filter((k) => k in counts).map((k) => [h("dt", {}, k), h("dd", {}, counts[k])])),
    );
    await this.search();
  }

  async search() {
    const data = new FormData(this.form);
    const kind = data.get("kind");
    this.status.textContent = "Searching…";
    try {
      const items = await get(`/v1/installations/${enc(this.app.installation)}/catalog/items`,
        { kind, q: data.get("q") });
      clear(this.results, items.map((item) => h("li", { class: "catalog-item" },
        h("div", {}, h("strong", {}, item.label ?? item.name), " ", h("code", {}, item.name),
          item.scope && item.scope !== "global" ? h("span", { class: "scope" }, item.scope) : null,
          item.extends ? h("span", { class: "scope" }, `extends ${item.extends}`) : null,
          item.score !== null && item.score !== undefined
            ? h("span", { class: "score" }, `score ${item.score.toFixed(3)}`) : null),
        item.description ? h("p", {}, item.description) : null,
        item.inputs?.length ? h("p", { class: "params" }, "inputs: ",
          item.inputs.map((p) => `${p.name}${p.required ? "*" : ""}`).join(", ")) : null,
        item.columns !== null && item.columns !== undefined
          ? h("p", { class: "params" }, `${item.columns} column(s)`) : null)));
      this.status.textContent = `${items.length} ${kind}`;
    } catch (err) {
      clear(this.results);
      this.status.textContent = err.message;
    }
  }
}
