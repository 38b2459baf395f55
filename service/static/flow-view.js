// A flow drawn as Flow Designer draws it: the trigger on top, then the steps in order,
// numbered; flow logic (IF/ELSE, loops, TRY, PARALLEL) as blocks with their steps nested
// inside; each item's annotation beside it and its inputs below, data pills as chips.

import { h } from "./dom.js";

const LOGIC = {
  IF: "If",
  ELSEIF: "Else If",
  ELSE: "Else",
  FOREACH: "For Each Item in",
  DOUNTIL: "Do the following until",
  PARALLEL: "Do the following in Parallel",
  PATH: "Path",
  TRY: "Try",
  CATCH: "Catch",
  WAITFORDURATION: "Wait For a Duration",
  SETFLOWVARIABLES: "Set Flow Variables",
  ASSIGNSUBFLOWOUTPUTS: "Assign Subflow Outputs",
  GOBACKTO: "Go Back To",
  EXITLOOP: "Exit Loop",
  SKIPITERATION: "Skip Iteration",
  ENDFLOW: "End Flow",
};
// Inputs whose value is an encoded query: shown one condition a line.
const QUERIES = new Set([
  "condition",
  "conditions",
  "email_conditions",
  "values",
  "fields",
  "field_values",
  "approval_conditions",
]);
const HEADLINE = { IF: "condition", ELSEIF: "condition", DOUNTIL: "condition", FOREACH: "items" };

function titleCase(name) {
  return name.replace(/_/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
}

/** `{{1.records}}` → "1 - Look Up Records ➛ Records"; the raw pill is its title. */
function pill(raw, ctx) {
  const [head, ...fields] = raw.split(".");
  let first = titleCase(head);
  if (/^\d+$/.test(head)) {
    const item = ctx.byOrder.get(Number(head));
    first = `${head} - ${item ? pillName(item, ctx) : "step"}`;
  } else if (head === "trigger") {
    first = `Trigger - ${ctx.triggerLabel}`;
  }
  const text = [first, ...fields.map(titleCase)].join(" ➛ ");
  return h("span", { class: "pill", title: `{{${raw}}}`, "aria-label": `data pill ${text}` }, text);
}

/** A value with its `{{...}}` pills drawn as chips. */
export function withPills(value, ctx) {
  const parts = [];
  const re = /\{\{([^{}]+)\}\}/g;
  let last = 0;
  for (const match of value.matchAll(re)) {
    if (match.index > last) parts.push(value.slice(last, match.index));
    parts.push(pill(match[1].trim(), ctx));
    last = match.index + match[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return parts;
}

const JOINERS = [
  ["^NQ", "new query"],
  ["^OR", "or"],
  ["^", "and"],
];

function queryLines(value, ctx) {
  const lines = [];
  let rest = value;
  let joiner = null;
  while (rest.length) {
    let cut = -1;
    let next = null;
    for (const [token, word] of JOINERS) {
      const at = rest.indexOf(token);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        next = [token, word];
      }
    }
    const part = cut < 0 ? rest : rest.slice(0, cut);
    lines.push(h("li", {}, joiner ? h("span", { class: "joiner" }, joiner, " ") : null,
      withPills(part, ctx)));
    if (cut < 0) break;
    rest = rest.slice(cut + next[0].length);
    joiner = next[1];
  }
  return h("ul", { class: "query" }, lines);
}

function inputsTable(inputs, ctx) {
  if (!inputs?.length) return null;
  return h(
    "dl",
    { class: "inputs" },
    inputs.map((input) => [
      h("dt", {}, titleCase(input.name)),
      h("dd", {}, QUERIES.has(input.name) && input.value.includes("^")
        ? queryLines(input.value, ctx)
        : withPills(input.value, ctx)),
    ]),
  );
}

// A loop's pill names the loop, not its headline's words ("2 - For Each ➛ Item").
const PILL_NAMES = { FOREACH: "For Each", DOUNTIL: "Do Until" };

function pillName(item, ctx) {
  return PILL_NAMES[item.definition] ?? itemLabel(item, ctx);
}

function itemLabel(item, ctx) {
  if (item.category === "flowlogic") return LOGIC[item.definition] ?? titleCase(item.definition);
  return ctx.labels[item.definition] ?? titleCase(item.definition);
}

function annotation(text) {
  return text ? h("p", { class: "annotation" }, h("span", { "aria-hidden": "true" }, "“"), text,
    h("span", { "aria-hidden": "true" }, "”")) : null;
}

function errorsOf(order, ctx) {
  const own = ctx.errors.filter((e) => (e.order ?? 0) === order);
  if (!own.length) return null;
  return h("ul", { class: "item-errors", "aria-label": "validator errors" },
    own.map((e) => h("li", {}, h("code", {}, e.code), " ", e.message)));
}

function state(order, ctx) {
  if (ctx.pending.has(order)) return h("span", { class: "pending" }, "inputs being written…");
  return null;
}

function component(item, ctx) {
  const children = ctx.children.get(item.order) ?? [];
  const logic = item.category === "flowlogic";
  const headlineInput = logic && HEADLINE[item.definition];
  const headline = headlineInput && item.inputs?.find((i) => i.name === headlineInput);
  const shownInputs = headline ? item.inputs.filter((i) => i !== headline) : item.inputs;
  const kind = logic ? "flow logic" : item.category === "subflow" ? "subflow" : "action";
  const header = h(
    "div",
    { class: "item-head" },
    h("span", { class: "order", "aria-label": `step ${item.order}` }, String(item.order)),
    h("span", { class: `kind kind-${item.category}` }, kind),
    h("strong", { class: "label" }, itemLabel(item, ctx)),
    headline ? h("span", { class: "headline" }, withPills(headline.value, ctx)) : null,
    !logic ? h("code", { class: "definition" }, item.definition) : null,
    item.scope && item.scope !== "global" ? h("span", { class: "scope" }, item.scope) : null,
    state(item.order, ctx),
  );
  return h(
    "li",
    {
      class: `item ${logic ? `logic logic-${item.definition.toLowerCase()}` : "action"}`,
      dataset: { order: item.order, definition: item.definition },
      "aria-label": `${item.order}. ${itemLabel(item, ctx)}`,
    },
    h("div", { class: "card" }, header, annotation(item.annotation),
      inputsTable(shownInputs, ctx), errorsOf(item.order, ctx)),
    children.length ? h("ol", { class: "block", "aria-label": `inside step ${item.order}` },
      children.map((c) => component(c, ctx))) : null,
  );
}

/**
 * The flow as nested lists. `labels`: catalog labels of steps and triggers by name;
 * `pending`: orders whose inputs are still being written (0 = the trigger); `errors`:
 * the validator's errors (each with its item's order).
 */
export function drawFlow(flow, { labels = {}, pending = new Set(), errors = [] } = {}) {
  const components = flow.components ?? [];
  const children = new Map();
  const top = [];
  for (const c of components) {
    if (c.block === null || c.block === undefined) top.push(c);
    else children.set(c.block, [...(children.get(c.block) ?? []), c]);
  }
  const trigger = flow.trigger;
  const ctx = {
    labels,
    pending,
    errors,
    children,
    byOrder: new Map(components.map((c) => [c.order, c])),
    triggerLabel: trigger ? (labels[trigger.type] ?? titleCase(trigger.type)) : "Subflow",
  };
  const triggerCard = trigger
    ? h("section", { class: "trigger card", "aria-label": "trigger", dataset: { order: 0 } },
      h("div", { class: "item-head" },
        h("span", { class: "kind kind-trigger" }, "trigger"),
        h("strong", { class: "label" }, ctx.triggerLabel),
        h("code", { class: "definition" }, trigger.type), state(0, ctx)),
      annotation(trigger.annotation), inputsTable(trigger.inputs, ctx), errorsOf(0, ctx))
    : h("section", { class: "trigger card", "aria-label": "subflow inputs" },
      h("strong", {}, "Subflow"));
  return h(
    "div",
    { class: "flow", "aria-label": `flow ${flow.name ?? ""}`.trim() },
    flow.name ? h("h3", { class: "flow-name" }, flow.name) : null,
    triggerCard,
    h("h4", { class: "actions-heading" }, "Actions"),
    top.length ? h("ol", { class: "steps" }, top.map((c) => component(c, ctx)))
      : h("p", { class: "empty" }, "No steps."),
  );
}
