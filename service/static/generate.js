// The playground: a requirement in, the server-sent events shown as they arrive (the
// outline, then each item's inputs), the flow drawn, the validator's verdict, a refusal
// shown as one, and the flow JSON to download.

import { streamFlow } from "./api.js";
import { clear, h } from "./dom.js";
import { drawFlow } from "./flow-view.js";

export function download(flow, name) {
  const blob = new Blob([JSON.stringify(flow, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function describe(name, data) {
  switch (name) {
    case "run":
      return `run ${data.run_id}`;
    case "outline":
      return `outline: trigger and ${data.flow.components.length} step(s)`;
    case "inputs":
      return data.order === 0 ? "inputs of the trigger" : `inputs of step ${data.order}`;
    case "validation":
      return `validation round ${data.round}: ${data.errors.length} error(s)`;
    case "refusal":
      return `refused: ${data.reason ?? ""}`;
    case "done":
      return `done: ${data.status}`;
    case "result":
      return `result: ${data.status}, ${data.model_calls} model call(s), ${data.seconds} s`;
    case "error":
      return `error: ${data.message}`;
    default:
      return name;
  }
}

export class Playground {
  constructor(root, app) {
    this.app = app;
    this.form = root.querySelector("#generate-form");
    this.requirement = root.querySelector("#requirement");
    this.button = root.querySelector("#generate-button");
    this.status = root.querySelector("#generate-status");
    this.log = root.querySelector("#event-log");
    this.verdict = root.querySelector("#verdict");
    this.canvas = root.querySelector("#flow-canvas");
    this.tools = root.querySelector("#flow-tools");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.run();
    });
    this.requirement.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
  }

  reset() {
    this.flow = null;
    this.pending = new Set();
    this.errors = [];
    clear(this.log);
    clear(this.verdict);
    clear(this.canvas);
    clear(this.tools);
  }

  redraw() {
    if (!this.flow) return;
    clear(this.canvas, drawFlow(this.flow, {
      labels: this.app.labels,
      pending: this.pending,
      errors: this.errors,
    }));
  }

  async run() {
    const text = this.requirement.value.trim();
    if (!text || this.busy) return;
    this.reset();
    this.busy = true;
    this.button.disabled = true;
    this.status.textContent = "Generating…";
    try {
      await this.app.ensureLabels();
      await streamFlow(this.app.installation, text, (name, data) => this.on(name, data));
    } catch (err) {
      this.verdict.append(h("p", { class: "error", role: "alert" }, err.message));
      this.status.textContent = "Failed.";
    } finally {
      this.busy = false;
      this.button.disabled = false;
    }
  }

  on(name, data) {
    this.log.append(h("li", { dataset: { event: name } }, describe(name, data)));
    if (name === "run") {
      this.runId = data.run_id;
    } else if (name === "outline") {
      this.flow = structuredClone(data.flow);
      this.pending = new Set([0, ...this.flow.components.map((c) => c.order)]);
      this.status.textContent = "Outline written; filling in each step's inputs…";
      this.redraw();
    } else if (name === "inputs") {
      const item = data.order === 0
        ? this.flow.trigger
        : this.flow.components.find((c) => c.order === data.order);
      if (item) item.inputs = data.inputs;
      this.pending.delete(data.order);
      this.redraw();
    } else if (name === "validation") {
      this.pending.clear();
      this.errors = data.errors;
      this.redraw();
    } else if (name === "refusal") {
      this.showRefusal(data.reason);
    } else if (name === "result") {
      this.finish(data);
    } else if (name === "error") {
      this.verdict.append(h("p", { class: "error", role: "alert" }, data.message));
      this.status.textContent = "Failed.";
    }
  }

  showRefusal(reason) {
    clear(this.canvas);
    clear(this.verdict, h("div", { class: "refusal", role: "status" },
      h("strong", {}, "Refused"), " — no flow was written: ", reason || "not a workflow request"));
  }

  finish(outcome) {
    this.pending.clear();
    this.errors = outcome.errors ?? [];
    if (outcome.flow) this.flow = outcome.flow;
    this.redraw();
    if (outcome.status === "refused") {
      this.showRefusal(outcome.refusal);
    } else {
      const ok = outcome.status === "ok";
      clear(this.verdict, h("div", { class: ok ? "valid" : "invalid", role: "status" },
        h("strong", {}, ok ? "Valid" : "Not valid"),
        ok ? " — the validator found no errors"
          : ` — ${this.errors.length} validator error(s) after ${outcome.validator_rounds} round(s)`,
        this.errors.length ? h("ul", {}, this.errors.map((e) =>
          h("li", {}, h("code", {}, e.code), ` step ${e.order ?? "trigger"}: ${e.message}`)))
          : null));
    }
    this.status.textContent =
      `Finished: ${outcome.status} · ${outcome.model_calls} model call(s) · ` +
      `${outcome.tokens_in + outcome.tokens_out} tokens · ${outcome.seconds} s`;
    clear(this.tools,
      outcome.flow ? h("button", { type: "button", id: "download-flow",
        onclick: () => download(outcome.flow, `flow-${outcome.run_id}.json`) },
        "Download flow JSON") : null,
      h("a", { href: `#/runs/${outcome.run_id}`, id: "open-run" }, "Open this run's timeline"));
  }
}
