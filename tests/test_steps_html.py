"""The step-through page: ``backprop graph EXPR --at POINT --format html -o steps.html``.

Without a browser: the file is well-formed HTML5, refers to nothing on the network, embeds
the job's data as JSON, and every running sum adds up. In a real headless browser
(Debian's chromium and chromium-driver, through selenium): every step is clicked through
(button and keyboard) and the page's numbers, read from the DOM, are compared with
``backprop grad --explain --json``'s and ``backprop grad --json``'s, as the same float text.
Without a browser, the browser tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ROOT, backprop_executable, run_cli

CASES = [
    # (expressions, point): several inputs, a reused node (x*x), constants, several outputs
    (["x*x + sin(x*y) + 2"], "x=1,y=2"),
    (["sin(2*x+y)"], "x=1,y=2"),
    (["a = x^2; sin(a) + cos(a)"], "x=0.5"),
    (["x*y", "x + y*exp(x)", "3"], "x=0.3,y=-1.7"),
    (["tanh(w*x + b) * 0.5 - log(1 + x*x)"], "w=0.7,x=-1.25,b=0.1"),
    (["x"], "x=-0.25"),  # the output is the input: no edge at all
]
IDS = ["reused-node", "seed004", "shared-square", "three-outputs", "neuron", "identity"]
STEP_KINDS = ("value", "seed", "adjoint", "tangent", "result")  # --explain's, as the page's


def page_of(tmp_path: Path, exprs: list[str], at: str, *extra: str) -> str:
    out = tmp_path / "steps.html"
    proc = run_cli("graph", *exprs, "--at", at, "--format", "html", "-o", str(out), *extra)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    return out.read_text(encoding="utf-8")


def embedded(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="steps-data">(.*?)</script>',
                      page, re.S)
    assert found, "the page embeds its data"
    return json.loads(found.group(1))


def grad_json(exprs: list[str], at: str, *extra: str) -> dict:
    """``backprop grad ... --json``, its floats kept as the text the document wrote."""
    proc = run_cli("grad", *exprs, "--at", at, "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout, parse_float=str)


# --------------------------------------------------------------------------- no browser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr", "path"}  # path: an SVG element written self-closed here


class Checker(HTMLParser):
    """Well-formedness: every element closed in order, ids unique, the HTML5 doctype,
    and every attribute or element that could load something from elsewhere recorded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: list[str] = []
        self.doctype: str | None = None
        self.loads: list[str] = []
        self.tags: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        for name in ("src", "href", "xlink:href", "action", "srcset", "data"):
            if name in attrs:
                self.loads.append(f"{tag} {name}={attrs[name]}")
        if tag in ("link", "iframe", "object", "embed", "img", "base"):
            self.loads.append(tag)
        if tag == "script" and attrs.get("src"):
            self.loads.append("script src")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs) -> None:
        self.tags.append(tag)
        if "id" in dict(attrs):
            self.ids.append(dict(attrs)["id"])

    def handle_endtag(self, tag) -> None:
        if tag in VOID and (not self.stack or self.stack[-1] != tag):
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


@pytest.mark.parametrize("exprs,at", CASES, ids=IDS)
def test_the_page_is_html5_self_contained_and_carries_the_jobs_data(tmp_path, exprs, at):
    from backprop.frontends.parse import parse
    from backprop.jobs.picture import graph_picture
    from backprop.render.steps_html import page_data

    page = page_of(tmp_path, exprs, at)
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.doctype is not None and checker.doctype.lower() == "doctype html"
    assert checker.stack == [], f"unclosed elements: {checker.stack}"
    assert len(checker.ids) == len(set(checker.ids)), "ids are unique"
    assert checker.tags.count("html") == checker.tags.count("body") == 1
    assert checker.loads == [], f"the page loads something: {checker.loads}"
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\((?!#)", page,
                         re.I), "no network reference, no @import, no url() but #ids"

    data = embedded(page)
    job = graph_picture(parse(*exprs), at, "html")
    assert data == page_data(job)  # the page's JSON is the job's data, unchanged
    # and the job's numbers, written as the same floats
    def text(number):
        return None if number is None else repr(float(number))

    for mode in ("reverse", "forward"):
        shown_steps = data["values"] + data["modes"][mode]
        job_steps = job.steps.values + job.steps.modes[mode]
        for shown, step in zip(shown_steps, job_steps, strict=True):
            for field in ("value", "before", "after"):
                assert shown[field] == text(getattr(step, field))
            for term, real in zip(shown["terms"], step.terms, strict=True):
                for field in ("partial", "carried", "contribution"):
                    assert term[field] == text(getattr(real, field))


@pytest.mark.parametrize("exprs,at", CASES, ids=IDS)
def test_every_running_sum_adds_up_to_the_printed_gradient(tmp_path, exprs, at):
    data = embedded(page_of(tmp_path, exprs, at))
    doc = grad_json(exprs, at, "--mode", "all")
    nodes, values = data["nodes"], data["values"]
    assert [s["node"] for s in values] == list(range(len(nodes)))  # every node, in order
    for o, output in enumerate(doc["outputs"]):
        node = next(n for n in nodes if n["name"] == data["outputs"][o])
        assert node["value"] == values[node["id"]]["value"] == output["value"]
    edges = {e["id"]: e for e in data["edges"]}
    for mode in ("reverse", "forward"):
        printed = doc["modes"][mode]["jacobian"]  # the floats' text, as --json wrote them
        assert data["gradients"][mode] == printed
        running: dict[int, str] = {}
        sweep = None
        for s in data["modes"][mode]:
            if s["sweep"] != sweep:
                running, sweep = {}, s["sweep"]
            if s["kind"] == "seed":
                assert s["after"] == "1.0" and s["terms"] == []
                running[s["node"]] = s["after"]
            elif s["kind"] in ("adjoint", "tangent"):
                assert s["kind"] == {"reverse": "adjoint", "forward": "tangent"}[mode]
                assert s["before"] == running.get(s["node"])
                total = None if s["before"] is None else float(s["before"])
                for term in s["terms"]:
                    edge = edges[term["edge"]]
                    # reverse: the adjoint of the edge's node flows into its argument;
                    # forward: the tangent of the argument flows into the edge's node
                    into, carrier = (edge["source"], edge["target"]) if mode == "reverse" \
                        else (edge["target"], edge["source"])
                    assert into == s["node"] and term["carried"] == running[carrier]
                    assert term["partial"] == edge["partial"]
                    contribution = float(term["partial"]) * float(term["carried"])
                    assert float(term["contribution"]) == contribution
                    total = contribution if total is None else total + contribution
                assert float(s["after"]) == total
                running[s["node"]] = s["after"]
            else:
                assert s["kind"] == "result"
                read_off = data["nodes"][s["node"]]["name"]
                assert read_off == (data["wrt"][s["wrt"]] if mode == "reverse"
                                    else data["outputs"][s["output"]])
                assert s["value"] == printed[s["output"]][s["wrt"]]
                assert s["value"] == running.get(s["node"], "0.0")
    for o, output in enumerate(doc["outputs"]):  # the gradient grad --json prints
        assert [output["gradient"][w]["value"] for w in doc["wrt"]] == \
            data["gradients"]["reverse"][o]
    assert doc["check"]["status"] == "pass"  # the printed gradient agrees with SymPy


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_the_steps_say_what_explain_says(tmp_path, mode):
    exprs, at = CASES[0]
    data = embedded(page_of(tmp_path, exprs, at))
    explained = grad_json(exprs, at, "--explain", "--mode", mode)["explain"]["steps"]
    want = [s["text"] for s in explained if s["kind"] in STEP_KINDS]
    assert [s["text"] for s in data["values"] + data["modes"][mode]] == want


def test_the_format_comes_from_the_suffix_and_goes_to_a_pipe(tmp_path):
    out = tmp_path / "page.html"
    assert run_cli("graph", "x*y", "--at", "x=1,y=2", "-o", str(out)).returncode == 0
    piped = run_cli("graph", "x*y", "--at", "x=1,y=2", "--format", "html")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == out.read_text(encoding="utf-8")
    assert piped.stdout.startswith("<!DOCTYPE html>")


def test_a_terminal_gets_an_error_not_a_page(tmp_path):
    """Standard output on a terminal: one line asking for -o, exit 2, nothing written."""
    leader, follower = os.openpty()
    try:
        proc = subprocess.run([backprop_executable(), "graph", "x*y", "--at", "x=1,y=2",
                               "--format", "html"], stdout=follower, stderr=subprocess.PIPE,
                              cwd=ROOT, env={**os.environ, "NO_COLOR": "1"}, timeout=60)
        os.close(follower)
        follower = -1
        shown = b""
        os.set_blocking(leader, False)
        try:
            shown = os.read(leader, 65536)
        except (BlockingIOError, OSError):
            pass
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) <= 2 and "-o" in proc.stderr.decode() and "terminal" in lines[0]
    assert b"<html" not in shown


def test_bad_requests(tmp_path):
    # no point: a page of steps needs numbers
    proc = run_cli("graph", "sin(x)", "--format", "html", "-o", str(tmp_path / "a.html"))
    assert proc.returncode == 2 and "--at" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "a.html").exists()
    # over the size limit: refused before any work (exit 3)
    from backprop.jobs.steps import STEPS_MAX_NODES

    big = "+".join(f"x{i}" for i in range(STEPS_MAX_NODES))
    proc = run_cli("graph", big, "--at", "*=1", "--format", "html", "-o",
                   str(tmp_path / "b.html"))
    assert proc.returncode == 3 and f"{STEPS_MAX_NODES:,}" in proc.stderr
    assert not (tmp_path / "b.html").exists()
    # a bad point, a bad format: exit 2 with the usual messages
    assert run_cli("graph", "sin(x)", "--at", "y=1", "--format", "html").returncode == 2
    assert run_cli("graph", "sin(x)", "--at", "x=1", "--format", "htm").returncode == 2


def test_names_that_look_like_markup_stay_text():
    """A label is text on the page, never markup, and the JSON cannot end its script."""
    from backprop.engine.graph import GraphBuilder
    from backprop.jobs.picture import graph_picture
    from backprop.render.steps_html import to_html

    builder = GraphBuilder()
    x = builder.input('w["a"]<1>&')
    y = builder.input("b{0}|c\\d")
    out = builder.apply("mul", builder.apply("tanh", x), y)
    evil = '</script><script>alert(1)</script><b title="x">&amp;'
    builder.label(out, evil)
    graph = builder.build([out])
    page = to_html(graph_picture(graph, "*=0.5", "html"))
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [] and checker.tags.count("script") == 2
    assert "b" not in checker.tags and "<b title" not in page
    data = embedded(page)
    assert evil in {n["name"] for n in data["nodes"]}
    assert 'w["a"]<1>&' in data["wrt"]


def test_a_constant_needs_no_point_and_a_spec_brings_its_own(tmp_path):
    out = tmp_path / "c.html"
    assert run_cli("graph", "2*3", "--format", "html", "-o", str(out)).returncode == 0
    data = embedded(out.read_text(encoding="utf-8"))
    assert [s["value"] for s in data["values"]] == ["2.0", "3.0", "6.0"]
    assert data["modes"] == {"reverse": [], "forward": []}

    spec = "examples/seed004.yaml"
    proc = run_cli("graph", spec, "--format", "html", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = embedded(out.read_text(encoding="utf-8"))
    proc = run_cli("grad", spec, "--json", "--mode", "all")
    printed = json.loads(proc.stdout, parse_float=str)["modes"]
    for mode in ("reverse", "forward"):
        assert data["gradients"][mode] == printed[mode]["jacobian"]
        results = [s for s in data["modes"][mode] if s["kind"] == "result"]
        assert {(s["output"], s["wrt"]): s["value"] for s in results} == {
            (o, k): v for o, row in enumerate(printed[mode]["jacobian"])
            for k, v in enumerate(row)}


def test_non_finite_numbers_are_written_as_text(tmp_path):
    data = embedded(page_of(tmp_path, ["log(x) + y"], "x=0,y=1"))
    assert "-inf" in {s["value"] for s in data["values"]}


# --------------------------------------------------------------------------- the browser


def _browser():
    """A headless chromium driven by selenium, or a skip naming what is missing."""
    missing = []
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        missing.append(f"selenium ({error})")
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser",
                                               "google-chrome") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    if chromium is None:
        missing.append("no chromium on PATH")
    if driver is None:
        missing.append("no chromedriver on PATH")
    if missing:
        pytest.skip("chromium/chromedriver not found: " + "; ".join(missing)
                    + " (apt-get install chromium chromium-driver; pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = _browser()
    yield driver
    driver.quit()


SNAPSHOT = """
const q = s => document.querySelector(s);
const rows = {};
document.querySelectorAll('#nodes tr[data-node]').forEach(tr => {
  rows[tr.getAttribute('data-node')] = {name: tr.querySelector('th').textContent,
    value: tr.querySelector('.value').textContent,
    deriv: tr.querySelector('.deriv').textContent};
});
const grad = {};
document.querySelectorAll('#gradient td[data-output]').forEach(td => {
  grad[td.getAttribute('data-output') + ':' + td.getAttribute('data-wrt')] = td.textContent;
});
const part = (li, c) => li.querySelector('.' + c).textContent;
return {counter: q('#counter').textContent, text: q('#step-text').textContent,
  current: [...document.querySelectorAll('#graph .node.current')].map(g => g.id),
  edges: [...document.querySelectorAll('#graph .edge.current')].map(g => g.id),
  sum: q('#sum').hidden ? null : {before: q('#sum-before').textContent,
    after: q('#sum-after').textContent, plus: q('#sum-plus').textContent,
    terms: [...document.querySelectorAll('#sum-terms li')].map(li => ({
      contribution: part(li, 'contribution'), carried: part(li, 'carried'),
      partial: part(li, 'partial')}))},
  done: !q('#done').hidden, rows: rows, grad: grad};
"""


def _same(shown: str, number) -> bool:
    """The page's text is the float ``number`` (a JSON text or an exact int) to the bit,
    written as --json writes floats."""
    return shown == repr(float(number))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("exprs,at", CASES, ids=IDS)
def test_clicking_through_every_step_in_a_browser(browser, tmp_path, exprs, at, mode):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = tmp_path / "steps.html"
    page_of(tmp_path, exprs, at)
    doc = grad_json(exprs, at, "--explain", "--mode", mode)
    explained = [s for s in doc["explain"]["steps"] if s["kind"] in STEP_KINDS]
    graph_edges = {e["id"]: e for e in embedded(page.read_text(encoding="utf-8"))["edges"]}
    browser.get(page.as_uri())
    if mode == "forward":
        browser.find_element(By.CSS_SELECTOR, "#mode input[value=forward]").click()
    body = browser.find_element(By.TAG_NAME, "body")
    first = browser.execute_script(SNAPSHOT)
    total = len(explained)
    assert first["counter"] == f"Step 0 of {total}" and first["current"] == []
    running: dict[str, str] = {}
    for k, said in enumerate(explained, 1):
        if k % 2:
            browser.find_element(By.ID, "next").click()
        else:
            body.send_keys(Keys.ARROW_RIGHT)
        shot = browser.execute_script(SNAPSHOT)
        assert shot["counter"] == f"Step {k} of {total}"
        assert shot["text"] == said["text"]  # --explain's line
        assert len(shot["current"]) == 1
        node = shot["current"][0][1:]
        row = shot["rows"][node]
        if said["kind"] == "value":
            assert row["name"] == said["node"]  # the node the step is about
            assert _same(row["value"], said["number"])
            assert shot["edges"] == [] and shot["sum"] is None
            continue
        if said["kind"] == "seed":  # a new sweep: the adjoints (tangents) start again
            running = {}
            assert row["name"] == said["node"] and _same(row["deriv"], said["number"])
            running[node] = row["deriv"]
        elif said["kind"] in ("adjoint", "tangent"):
            assert row["name"] == said["node"]
            s = shot["sum"]
            for edge_id in shot["edges"]:  # the edges highlighted carry into this node
                edge = graph_edges[edge_id]
                assert str(edge["source" if mode == "reverse" else "target"]) == node
            assert len(s["terms"]) == len(shot["edges"]) >= 1
            total_sum = None if node not in running else float(running[node])
            assert s["before"] == running.get(node, "(none yet)")
            for term, edge_id in zip(s["terms"], shot["edges"]):
                edge = graph_edges[edge_id]
                carrier = edge["target"] if mode == "reverse" else edge["source"]
                assert term["carried"] == running[str(carrier)]
                contribution = float(term["partial"]) * float(term["carried"])
                assert float(term["contribution"]) == contribution
                total_sum = contribution if total_sum is None else total_sum + contribution
            assert float(s["after"]) == total_sum and row["deriv"] == s["after"]
            assert s["plus"] == "".join(f" + {t['contribution']}" for t in s["terms"])
            if said["kind"] == "adjoint":  # this edge's contribution, as --explain's JSON
                assert _same(s["terms"][0]["contribution"], said["number"])
            else:  # the tangent, as --explain's JSON
                assert _same(s["after"], said["number"])
            running[node] = s["after"]
        else:
            assert said["kind"] == "result"
            assert _same(row["deriv"] or "0.0", said["number"])
    last = browser.execute_script(SNAPSHOT)
    assert last["done"]
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
    # the gradient on the page is the one grad --json prints, as the same text
    printed = {f"{o}:{k}": output["gradient"][w]["value"]
               for o, output in enumerate(doc["outputs"]) for k, w in enumerate(doc["wrt"])}
    assert last["grad"] == printed
    # and back: Home shows nothing, End everything, the left arrow one step less
    body.send_keys(Keys.HOME)
    assert browser.execute_script(SNAPSHOT)["counter"] == f"Step 0 of {total}"
    browser.find_element(By.ID, "last").click()
    body.send_keys(Keys.ARROW_LEFT)
    back = browser.execute_script(SNAPSHOT)
    assert back["counter"] == f"Step {total - 1} of {total}" and not back["done"]
    assert [entry for entry in browser.get_log("browser")
            if entry.get("level") == "SEVERE"] == []


def test_the_picture_draws_every_node_and_edge(browser, tmp_path):
    """The inline SVG, drawn offline, has every node and edge, laid out."""
    page_of(tmp_path, ["x*x + sin(x*y) + 2"], "x=1,y=2")
    browser.get((tmp_path / "steps.html").as_uri())
    counts = browser.execute_script(
        "return [document.querySelectorAll('#graph .node').length,"
        " document.querySelectorAll('#graph .edge').length,"
        " document.getElementById('graph').getBBox().width];")
    assert counts[0] == 8 and counts[1] == 9 and counts[2] > 0
