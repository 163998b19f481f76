"""Withdrawing an action programme (D14, D18) and an essay template (D11) through the API, on SQLite and PostgreSQL:
only the unit that wrote it withdraws it; a programme's yearly progress goes with it, graded essays stay."""

from __future__ import annotations

from tests.api.refusals import check_refusal
from tests.domain_harness import Api
from tests.workflow_harness import FlowMaker

V = "/api/v1"


async def test_d14_d18_a_withdrawn_programme_takes_its_progress_reports_with_it(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    programme = await mk.programme("H1", doc)
    url = f"{V}/action-programmes/{programme['id']}"
    body = {
        "programme": programme["id"],
        "target": programme["targets"][0]["key"],
        "year": 2021,
        "value": "90",
        "reported_on": "2021-12-20",
    }
    await mk.api.ok("POST", f"{V}/programme-progress", json=body)
    progress = f"{V}/programme-progress"
    assert len(await mk.api.ok("GET", progress, params={"programme": programme["id"]})) == 1
    # The programme travels down to the base, which reads it but does not write it (single writer, D4).
    assert (await mk.api.call("GET", url, ("H1B1", "admin"))).status_code == 200
    assert (await mk.api.call("DELETE", url, ("H1B1", "admin"))).status_code == 403
    check_refusal(await mk.api.call("DELETE", url, params={"rev": 7}), 409, "rev", "rev")
    assert (await mk.api.call("DELETE", url, ("H1", "editor"), params={"rev": 1})).status_code == 204
    assert (await mk.api.call("GET", url)).status_code == 404
    assert await mk.api.ok("GET", progress, params={"programme": programme["id"]}) == [], "D18: withdrawn with it"
    coverage = await mk.api.ok("GET", f"{V}/action-programmes/coverage", params={"document": doc["id"]})
    assert next(r for r in coverage if r["code"] == "H1")["programme"] is None, "D14: the unit owes one again"
    again = await mk.programme("H1", doc)
    assert again["id"] != programme["id"], "a new programme for the same document may be built"


async def test_d11_a_withdrawn_template_leaves_the_graded_essays(api: Api) -> None:
    mk = FlowMaker(api)
    doc = await mk.doc()
    template = await mk.template("H1", doc)
    member = await mk.member("H1B1")
    await mk.essay("H1", member, doc)
    url = f"{V}/essay-templates/{template['id']}"
    assert (await mk.api.call("DELETE", url, ("H1B1", "admin"))).status_code == 403, "written by the level above"
    assert (await mk.api.call("DELETE", url, ("H1", "editor"))).status_code == 204
    assert await mk.api.ok("GET", f"{V}/essay-templates", params={"document": doc["id"]}) == []
    essays = await mk.api.ok("GET", f"{V}/essays", params={"document": doc["id"]})
    assert [e["member"] for e in essays] == [member["id"]], "D13: grades hang on the document, not the template"
