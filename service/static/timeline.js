// One run as a timeline: every node, tool call, model call and validation in the order
// they started, each a bar on the run's time axis, opened for its arguments and results,
// the model's prompt and answer, tokens and timings, the validator's errors.

import { enc, get } from "./api.js";
import { badge, clear, h, json, ms, when } from "./dom.js";
import { drawFlow } from "./flow-view.js";
import { download } from "./generate.js";

const DEPTH = { run: 0, node: 1, validation: 1, tool: 2, model: 2 };

function started(event) {
  return new Date(event.started_at).getTime();
}

function messages(prompt) {
  return h("ol", { class: "messages" }, (prompt ?? []).map((m) =>
    h("li", { class: `message role-${m.role}` }, h("strong", {}, m.role), h("pre", {}, m.content))));
}

function details(event) {
  const p = event.payload ?? {};
  switch (event.kind) {
    case "model":
      return [
        h("p", {}, `adapter ${p.adapter ?? "none"} · finish ${p.finish_reason ?? "?"} · `,
          `${p.usage?.prompt_tokens ?? 0} prompt + ${p.usage?.completion_tokens ?? 0} answer tokens`),
        h("h5", {}, "Prompt"), messages(p.prompt),
        h("h5", {}, "Answer"), h("pre", { class: "answer" }, p.text ?? ""),
        p.timings ? [h("h5", {}, "Timings"), json(p.timings)] : null,
      ];
    case "tool":
      return [h("h5", {}, "Arguments"), json(p.arguments ?? {}), h("h5", {}, "Result"),
        json(p.result ?? null)];
    case "validation":
      return p.errors?.length
        ? h("ul", { class: "item-errors" }, p.errors.map((e) =>
          h("li", {}, h("code", {}, e.code), ` step ${e.order ?? "trigger"}: ${e.message}`)))
        : h("p", {}, "No errors.");
    default:
      return json(p);
  }
}

function summaryText(event) {
  const p = event.payload ?? {};
  if (event.kind === "model") {
    const u = p.usage ?? {};
    return `${event.node ?? ""} · ${u.prompt_tokens ?? 0}+${u.completion_tokens ?? 0} tokens`;
  }
  if (event.kind === "validation") return `round ${p.round ?? 0} · ${p.errors?.length ?? 0} error(s)`;
  if (event.kind === "tool") return event.node ?? "";
  return event.node && event.node !== event.name ? event.node : "";
}

export async function showRun(root, app, runId) {
  const run = await get(`/v1/runs/${enc(runId)}`);
  const events = [...run.events].sort((a, b) => started(a) - started(b) || a.seq - b.seq);
  const t0 = events.length ? Math.min(...events.map(started)) : 0;
  const total = Math.max(1, ...events.map((e) => started(e) - t0 + e.duration_ms));
  const flow = run.result?.flow;
  clear(
    root,
    h("h2", { id: "run-heading", tabindex: "-1" }, "Run ", h("code", {}, run.id)),
    h("p", { class: "requirement" }, run.requirement),
    h("dl", { class: "totals" },
      h("dt", {}, "Status"), h("dd", {}, badge(run.status)),
      h("dt", {}, "Started"), h("dd", {}, when(run.started_at)),
      h("dt", {}, "Model calls"), h("dd", {}, run.model_calls),
      h("dt", {}, "Tokens in / out"), h("dd", {}, `${run.tokens_in} / ${run.tokens_out}`),
      h("dt", {}, "Validator rounds"), h("dd", {}, run.validator_rounds),
      h("dt", {}, "Took"), h("dd", {}, ms(total)),
      h("dt", {}, "Model"), h("dd", {}, `${run.model ?? "?"} · adapter ${run.adapter ?? "none"}`),
    ),
    run.error ? h("p", { class: "error" }, run.error) : null,
    run.result?.refusal ? h("div", { class: "refusal", role: "status" },
      h("strong", {}, "Refused"), " — ", run.result.refusal) : null,
    h("h3", {}, "Timeline"),
    h("ol", { class: "timeline", "aria-label": "run timeline" }, events.map((e) => {
      const left = ((started(e) - t0) / total) * 100;
      const width = Math.max(0.5, (e.duration_ms / total) * 100);
      return h("li", { class: `event kind-${e.kind} depth-${DEPTH[e.kind] ?? 1}`,
        dataset: { kind: e.kind } },
        h("details", {},
          h("summary", {},
            h("span", { class: `kind kind-${e.kind}` }, e.kind),
            h("span", { class: "event-name" }, e.name),
            h("span", { class: "event-info" }, summaryText(e)),
            h("span", { class: "event-ms" }, ms(e.duration_ms)),
            h("span", { class: "bar-track", "aria-hidden": "true" },
              h("span", { class: "bar", style: { left: `${left}%`, width: `${width}%` } }))),
          h("div", { class: "event-body" }, details(e))));
    })),
    flow ? [
      h("h3", {}, "Flow"),
      h("button", { type: "button", onclick: () => download(flow, `flow-${run.id}.json`) },
        "Download flow JSON"),
      drawFlow(flow, { labels: await app.labelsFor(run.installation),
        errors: run.result?.errors ?? [] }),
    ] : null,
  );
}
