// The installation's runs, newest first, filtered by status and start time.

import { enc, get } from "./api.js";
import { badge, clear, h, ms, when } from "./dom.js";

const HOUR = 3600 * 1000;
const SINCE = { hour: HOUR, day: 24 * HOUR, week: 7 * 24 * HOUR };

export class RunsList {
  constructor(root, app) {
    this.app = app;
    this.form = root.querySelector("#runs-filter");
    this.body = root.querySelector("#runs-body");
    this.status = root.querySelector("#runs-status");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.load();
    });
    this.form.addEventListener("change", () => this.load());
  }

  async load() {
    const data = new FormData(this.form);
    const span = SINCE[data.get("since")];
    const params = {
      status: data.get("status"),
      since: span ? new Date(Date.now() - span).toISOString() : null,
      limit: 100,
    };
    this.status.textContent = "Loading runs…";
    try {
      const runs = await get(`/v1/installations/${enc(this.app.installation)}/runs`, params);
      clear(this.body, runs.map((run) => this.row(run)));
      this.status.textContent = runs.length ? `${runs.length} run(s)` : "No runs match.";
    } catch (err) {
      clear(this.body);
      this.status.textContent = err.message;
    }
  }

  row(run) {
    const took = run.finished_at ? new Date(run.finished_at) - new Date(run.started_at) : null;
    return h(
      "tr",
      { dataset: { run: run.id } },
      h("td", {}, when(run.started_at)),
      h("td", {}, h("a", { href: `#/runs/${run.id}` }, run.requirement)),
      h("td", {}, badge(run.status)),
      h("td", { class: "num" }, run.model_calls),
      h("td", { class: "num" }, `${run.tokens_in} / ${run.tokens_out}`),
      h("td", { class: "num" }, run.validator_rounds),
      h("td", { class: "num" }, ms(took)),
    );
  }
}
