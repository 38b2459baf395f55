"""The web playground's page and routes (service/playground.py) on the real app and
store: the page and its files, the routes it reads, and that no key reaches another
installation's runs, flows or catalog through any of them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playground import (
    OTHER,
    ThreadServer,
    case,
    generate,
    playground_keys,
    playground_server,
)

from flowgen.shipped import playground_dir


@pytest.fixture(scope="module")
def server(synced_store, engine, embedder) -> Iterator[ThreadServer]:
    with playground_server(engine, embedder) as srv:
        yield srv


@pytest.fixture(scope="module")
def keys(server) -> dict[str, str]:
    return playground_keys()


@pytest.fixture(scope="module")
def runs(server, keys) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """One generation in each installation, each by its own key."""
    requirement = case()["requirement"]
    return {
        "acme": generate(server, keys["acme"], "acme-itsm", requirement),
        "other": generate(server, keys["other"], OTHER, requirement),
    }


def run_id(events: list[tuple[str, dict[str, Any]]]) -> str:
    assert events[0][0] == "run"
    return events[0][1]["run_id"]


def test_the_page_and_every_file_it_names_are_served_from_this_origin(server) -> None:
    with server.client() as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        named = set(re.findall(r'(?:src|href)="(/ui/[^"]+)"', page.text))
        assert {"/ui/app.js", "/ui/style.css"} <= named
        for name in sorted(named):
            assert c.get(name).status_code == 200, name
        script = c.get("/ui/app.js")
        assert "javascript" in script.headers["content-type"]
        assert script.headers["content-security-policy"] == policy
    # Nothing is fetched from elsewhere: no file names another origin.
    elsewhere = re.compile(r"""(?:src|href|import|from|url)\s*\(?\s*["']?(?:https?:)?//""")
    for path in playground_dir().iterdir():
        assert not elsewhere.search(path.read_text()), path.name


def test_every_label_names_a_control_on_the_page() -> None:
    html = (playground_dir() / "index.html").read_text()
    controls = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    assert controls and controls <= labelled, controls - labelled


def test_a_stream_sends_the_outline_then_each_items_inputs(runs) -> None:
    names = [name for name, _ in runs["acme"]]
    assert names[:2] == ["run", "outline"]
    assert names[-2:] == ["done", "result"]
    orders = [data["order"] for name, data in runs["acme"] if name == "inputs"]
    assert orders and orders[0] == 0 and orders == sorted(orders)
    result = runs["acme"][-1][1]
    assert result["status"] == "ok" and result["flow"]["components"]


def test_installations_lists_what_a_key_reaches(server, keys) -> None:
    def listed(key: str) -> tuple[bool, list[str]]:
        with server.client(key) as c:
            body = c.get("/v1/installations").json()
        return body["admin"], [i["installation"] for i in body["installations"]]

    assert listed(keys["acme"]) == (False, ["acme-itsm"])
    assert listed(keys["other"]) == (False, [OTHER])
    admin, every = listed(keys["admin"])
    assert admin and {"acme-itsm", OTHER} <= set(every)
    with server.client() as anonymous:
        assert anonymous.get("/v1/installations").status_code == 401


def test_runs_are_listed_newest_first_and_filtered_by_status_and_time(server, keys, runs) -> None:
    own = run_id(runs["acme"])
    url = "/v1/installations/acme-itsm/runs"
    with server.client(keys["acme"]) as c:
        listed = c.get(url).json()
        assert own in [r["id"] for r in listed]
        assert {r["installation"] for r in listed} == {"acme-itsm"}
        starts = [r["started_at"] for r in listed]
        assert starts == sorted(starts, reverse=True)
        assert own in [r["id"] for r in c.get(url, params={"status": "ok"}).json()]
        assert own not in [r["id"] for r in c.get(url, params={"status": "refused"}).json()]
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        assert c.get(url, params={"since": future}).json() == []
        assert own in [r["id"] for r in c.get(url, params={"since": past}).json()]
        assert own not in [r["id"] for r in c.get(url, params={"until": past}).json()]
        assert c.get(url, params={"status": "not a status"}).status_code == 422


def test_catalog_items_are_listed_and_searched(server, keys) -> None:
    url = "/v1/installations/acme-itsm/catalog/items"
    with server.client(keys["acme"]) as c:
        steps = c.get(url, params={"kind": "steps"}).json()
        names = [s["name"] for s in steps]
        assert "look_up_records" in names and names == sorted(names)
        look_up = next(s for s in steps if s["name"] == "look_up_records")
        assert {"name": "table", "type": "table", "required": True} in look_up["inputs"]
        tables = c.get(url, params={"kind": "tables"}).json()
        assert next(t for t in tables if t["name"] == "incident")["columns"] > 0
        found = c.get(url, params={"kind": "steps", "q": "send an email"}).json()
        assert found and found[0]["score"] is not None
        assert "send_email" in [s["name"] for s in found[:5]]
        assert c.get(url, params={"kind": "columns"}).status_code == 422
        assert c.get(url, params={"kind": "steps", "q": "a\x00b"}).status_code == 422


def foreign_requests(installation: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every route of the app that takes an installation, as (method, url, request
    arguments), aimed at `installation`; paths are read off the app's own OpenAPI
    document, so a route added later is checked too."""
    from flowgen.service.app import create_app

    doc = create_app().openapi()
    requests = []
    for path, operations in doc["paths"].items():
        if "{installation_id}" not in path:
            continue
        url = path.replace("{installation_id}", installation).replace("{job_id}", "0")
        for method in operations:
            body: dict[str, Any] = {}
            if method in ("post", "put"):
                body = {"json": {"requirement": "Close the incident when its task closes"}}
            requests.append((method.upper(), url, body))
    return requests


def test_no_key_reaches_another_installations_runs_flows_or_catalog(server, keys, runs) -> None:
    acme_run, other_run = run_id(runs["acme"]), run_id(runs["other"])
    pairs = [(keys["acme"], OTHER, other_run), (keys["other"], "acme-itsm", acme_run)]
    for key, foreign, foreign_run in pairs:
        with server.client(key) as c:
            checked = foreign_requests(foreign)
            assert len(checked) >= 7  # catalog (get, put, items, job), flows, keys, runs
            for method, url, kwargs in checked:
                response = c.request(method, url, **kwargs)
                assert response.status_code == 404, (method, url, response.text)
                assert response.json()["error"]["code"] == "not_found"
                assert foreign not in response.text.replace(f"'{foreign}'", "")
            # The other's run, by id, is as if it did not exist.
            response = c.get(f"/v1/runs/{foreign_run}")
            assert response.status_code == 404
            # Nothing of the other installation shows through the key's own routes.
            own = c.get("/v1/installations").json()["installations"]
            assert foreign not in [i["installation"] for i in own]
            mine = own[0]["installation"]
            listed = c.get(f"/v1/installations/{mine}/runs", params={"limit": 200}).json()
            assert foreign_run not in [r["id"] for r in listed]
            assert {r["installation"] for r in listed} == {mine}
    # An admin key reaches both, and an unknown installation is still 404.
    with server.client(keys["admin"]) as admin:
        assert admin.get(f"/v1/runs/{acme_run}").status_code == 200
        assert admin.get(f"/v1/installations/{OTHER}/runs").status_code == 200
        assert admin.get("/v1/installations/no-such-co/runs").status_code == 404
        assert admin.get("/v1/installations/no-such-co/catalog/items").status_code == 404
