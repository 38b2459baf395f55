"""The web playground in a real browser: headless Chromium (Debian's `chromium` package)
driven by Playwright for Python, on the service's app on loopback (tests/playground.py).

It signs in with the keyboard, generates a flow and sees the streamed outline and each
step's inputs, the flow drawn with its nesting, the validator's verdict and the download;
opens the run's timeline; and checks that another installation's key sees none of it.
Screenshots go to build/screenshots/ (FLOWGEN_DOCS_SCREENSHOTS=1 also writes the two the
docs show to docs/images/)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playground import (
    OTHER,
    REPO,
    ThreadServer,
    case,
    playground_keys,
    playground_server,
)

CHROMIUM = os.environ.get("FLOWGEN_CHROMIUM") or shutil.which("chromium")
SHOTS = REPO / "build" / "screenshots"
DOCS_SHOTS = REPO / "docs" / "images"
# The ones the docs show: the nested flow (replayed) and a real model's run timeline.
IN_DOCS = {"playground-flow.png", "run-timeline-model.png"}

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(
        sync_playwright is None,
        reason="Playwright for Python is not installed (pip install -e '.[test]')",
    ),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium on PATH (apt-get install -y chromium; scripts/test.sh does)",
    ),
]


@pytest.fixture(scope="module")
def server(synced_store, engine, embedder) -> Iterator[ThreadServer]:
    with playground_server(engine, embedder) as srv:
        yield srv


@pytest.fixture(scope="module")
def keys(server) -> dict[str, str]:
    return playground_keys()


@pytest.fixture
def page(server, tmp_path) -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True, base_url=server.url
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Answers the test asks for (401, 404) are logged as failed loads; anything else
        # logged as an error (a script error, a CSP violation) fails the test.
        expected = "Failed to load resource"
        page.on(
            "console",
            lambda msg: (
                errors.append(msg.text)
                if msg.type == "error" and not msg.text.startswith(expected)
                else None
            ),
        )
        yield page
        context.close()
        browser.close()
        assert not errors, errors  # no script error, no CSP violation


def screenshot(page: Page, name: str, height: int | None = None) -> None:
    """The whole page, or its top `height` pixels."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    clip = {"x": 0, "y": 0, "width": 1280, "height": height} if height else None
    page.screenshot(path=str(SHOTS / name), full_page=True, clip=clip)  # type: ignore[arg-type]
    if os.environ.get("FLOWGEN_DOCS_SCREENSHOTS") == "1" and name in IN_DOCS:
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHOTS / name, DOCS_SHOTS / name)


def sign_in(page: Page, key: str) -> None:
    """With the keyboard only: the key field has focus, Enter submits."""
    page.goto("/")
    field = page.get_by_label("API key", exact=True)
    expect(field).to_be_focused()
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Views")).to_be_visible()


def test_sign_in_generate_watch_the_stream_and_open_the_run(page: Page, keys) -> None:
    gold = case()
    page.goto("/")
    page.get_by_label("API key", exact=True).fill("fgk_0123456789ab_wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("unknown or revoked")

    sign_in(page, keys["acme"])
    expect(page.get_by_label("Installation", exact=True)).to_have_value("acme-itsm")
    expect(
        page.get_by_label("Installation", exact=True)
    ).to_be_disabled()  # a key sees one installation
    # Every form control has a label.
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select, textarea')]"
        ".filter(c => !c.labels.length).map(c => c.id)"
    )
    assert unlabelled == []

    requirement = page.get_by_label("Requirement", exact=True)
    requirement.focus()
    page.keyboard.type(gold["requirement"])
    page.keyboard.press("Control+Enter")

    log = page.locator("#event-log li")
    expect(page.locator("#event-log li[data-event=result]")).to_have_count(1, timeout=120_000)
    events = log.evaluate_all("items => items.map(i => i.dataset.event)")
    assert events[:2] == ["run", "outline"] and events[-2:] == ["done", "result"]
    assert events.count("inputs") >= 3  # the trigger's, then each step's, after the outline
    assert events.index("inputs") > events.index("outline")

    canvas = page.locator("#flow-canvas")
    expect(canvas.get_by_role("region", name="trigger")).to_contain_text("Monthly")
    # FOREACH holds IF and ELSE, each holding its steps, in the gold flow's order.
    loop = canvas.locator("li.logic-foreach")
    expect(loop).to_have_count(1)
    expect(loop.locator(":scope > ol.block > li.logic-if > ol.block > li.action")).to_have_count(1)
    expect(loop.locator(":scope > ol.block > li.logic-else > ol.block > li.action")).to_have_count(
        2
    )
    orders = canvas.locator("li.item").evaluate_all("xs => xs.map(x => +x.dataset.order)")
    assert orders == [c["order"] for c in gold["flow"]["components"]]
    expect(canvas.locator(".annotation").first).to_contain_text("first of every month")
    headline = loop.locator(":scope > .card .headline .pill")
    expect(headline).to_have_text("1 - Look Up Records ➛ Records")
    assert canvas.locator(".pill").count() >= 4
    expect(page.locator("#verdict")).to_contain_text("Valid")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download flow JSON").click()
    flow = json.loads(Path(download.value.path()).read_text())
    assert [c["definition"] for c in flow["components"]] == [
        c["definition"] for c in gold["flow"]["components"]
    ]
    screenshot(page, "playground-flow.png")

    page.get_by_role("link", name="Open this run's timeline").click()
    expect(page.locator("#run-heading")).to_be_focused()
    run_id = page.url.rsplit("/", 1)[1]
    timeline = page.get_by_role("list", name="run timeline")
    kinds = set(timeline.locator("li.event").evaluate_all("xs => xs.map(x => x.dataset.kind)"))
    assert {"run", "node", "tool", "model", "validation"} <= kinds
    # Open the first model call from the keyboard: its prompt and answer show.
    model_call = timeline.locator("li.kind-model summary").first
    model_call.focus()
    page.keyboard.press("Enter")
    body = timeline.locator("li.kind-model .event-body").first
    expect(body).to_contain_text("Prompt")
    expect(body).to_contain_text("Answer")
    expect(body.locator(".message")).not_to_have_count(0)
    tool_call = timeline.locator("li.kind-tool summary").first
    tool_call.click()
    expect(timeline.locator("li.kind-tool .event-body").first).to_contain_text("Arguments")
    screenshot(page, "run-timeline.png", height=1500)

    # The runs list, filtered by status.
    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.locator(f"tr[data-run='{run_id}']")).to_be_visible()
    page.get_by_label("Status", exact=True).select_option("refused")
    expect(page.locator(f"tr[data-run='{run_id}']")).to_have_count(0)
    page.get_by_label("Status", exact=True).select_option("ok")
    expect(page.locator(f"tr[data-run='{run_id}']")).to_be_visible()

    # The catalog at a glance, and its search.
    page.get_by_role("link", name="Catalog", exact=True).click()
    expect(page.locator("#catalog-summary")).to_contain_text("acme-itsm")
    page.get_by_label("Search", exact=True).fill("post a message to slack")
    page.get_by_label("Search", exact=True).press("Enter")
    expect(page.locator("#catalog-results .score").first).to_be_visible()

    # Another installation's key sees none of it.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, keys["other"])
    expect(page.get_by_label("Installation", exact=True)).to_have_value(OTHER)
    options = page.get_by_label("Installation", exact=True).locator("option").all_inner_texts()
    assert options == [OTHER]
    page.goto(f"/#/runs/{run_id}")
    expect(page.locator("#run-heading")).to_have_text("Run not found")
    expect(page.locator("#page-error")).to_contain_text("no run")
    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.locator("#runs-status")).to_have_text(re.compile(r"run\(s\)$|^No runs match"))
    expect(page.locator(f"tr[data-run='{run_id}']")).to_have_count(0)

    # An admin key picks the installation.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, keys["admin"])
    picker = page.get_by_label("Installation", exact=True)
    expect(picker).to_be_enabled()
    picker.select_option("acme-itsm")
    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.locator(f"tr[data-run='{run_id}']")).to_be_visible()


def test_a_refusal_is_shown_as_one(server, keys, page: Page) -> None:
    # The replayed model refuses whatever it is asked when it answers no flow.
    from flowgen.service.services import Services

    services: Services = server.server.config.app.state.services  # type: ignore[attr-defined]
    model: Any = services.model
    gold_flow = model.flow
    model.flow = None
    try:
        sign_in(page, keys["acme"])
        page.get_by_label("Requirement", exact=True).fill("Write me a poem about the sea")
        page.get_by_role("button", name="Generate").click()
        expect(page.locator(".refusal")).to_contain_text("Refused", timeout=60_000)
        expect(page.locator("#flow-canvas .flow")).to_have_count(0)
    finally:
        model.flow = gold_flow


@pytest.fixture(scope="module")
def model_server(synced_store) -> Iterator[ThreadServer]:
    srv = ThreadServer(None).start(ready_within=600)
    yield srv
    srv.stop()


@pytest.mark.model
def test_the_page_generates_with_the_real_model(model_server, keys, tmp_path) -> None:
    """The same page on the real model and adapter: the outline (or a refusal) streams
    first, then the result, and what came out is drawn or shown as a refusal."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(base_url=model_server.url, viewport={"width": 1280, "height": 900})
        sign_in(page, keys["acme"])
        page.get_by_label("Requirement", exact=True).fill(
            "Every time a user becomes inactive, find all incidents assigned to them "
            "and assign them to their manager"
        )
        page.get_by_role("button", name="Generate").click()
        result = page.locator("#event-log li[data-event=result]")
        expect(result).to_have_count(1, timeout=300_000)
        events = page.locator("#event-log li").evaluate_all(
            "items => items.map(i => i.dataset.event)"
        )
        assert events[1] in ("outline", "refusal") and events[-1] == "result"
        if events[1] == "outline":
            expect(page.locator("#flow-canvas .trigger")).to_be_visible()
            expect(page.locator("#verdict")).to_contain_text("alid")  # Valid / Not valid
        else:
            expect(page.locator(".refusal")).to_contain_text("Refused")
        # Its timeline: real tokens and timings.
        page.get_by_role("link", name="Open this run's timeline").click()
        expect(page.locator("#run-heading")).to_be_focused()
        page.locator("li.kind-model summary").first.click()
        expect(page.locator("li.kind-model .event-body").first).to_contain_text("Answer")
        screenshot(page, "run-timeline-model.png", height=1500)
        browser.close()
