"""``backprop check``'s report as a terminal table, JSON, Markdown (a CI job summary) and
JUnit XML (what CI systems render as tests). Formatting only."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from backprop.render.markdown import cell, code, table


def _status(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def _rows(report):
    """One row per claimed partial: claim, d/d, kind, claimed, backprop, verdict, how."""
    for result in report.results:
        for f in result.findings:
            yield (result.claim.name, f.wrt, f.kind, f.claimed, f.actual or "",
                   _status(f.ok), f.detail or f.method)


def render_claims(report, console) -> None:
    """One line per claimed partial, pass or FAIL first; a wrong one's counterexample below."""
    from rich.markup import escape

    console.print(f"{escape(report.source)}: {report.passed} of {len(report.results)} "
                  f"claims hold\n")
    for result in report.results:
        claim = result.claim
        for f in result.findings:
            where = f" at {claim.at}" if f.kind == "value" else ""
            mark = "[green]pass[/]" if f.ok else "[bold red]FAIL[/]"
            line = f"{mark}  {escape(claim.name)}: d/d{f.wrt} {escape(claim.expr)} = " \
                   f"{escape(f.claimed)}{escape(where)}"
            if f.kind == "value" and f.ok:
                line += f" (backprop {f.actual})"
            console.print(line)
            console.print(f"      {escape(f.detail or f.method)}", style=None if f.ok else "red")
    if report.failed:
        console.print(f"\n{report.failed} claim{'s' if report.failed != 1 else ''} wrong: "
                      + escape(", ".join(r.claim.name for r in report.results if not r.ok)))


def claims_document(report) -> dict:
    return {
        "version": 1,
        "command": "check",
        "file": report.source,
        "claims": [{
            "name": r.claim.name,
            "line": r.claim.line,
            "expression": r.claim.expr,
            "at": r.claim.at,
            "status": _status(r.ok).lower(),
            "checks": [{"wrt": f.wrt, "kind": f.kind, "claimed": f.claimed,
                        "backprop": f.actual, "status": _status(f.ok).lower(),
                        "method": f.method, "detail": f.detail or None}
                       for f in r.findings],
            "seconds": r.seconds,
        } for r in report.results],
        "passed": report.passed,
        "failed": report.failed,
    }


def claims_markdown(report) -> str:
    head = (f"## backprop check\n\n`{report.source}`: {report.passed} of "
            f"{len(report.results)} claims hold"
            + (f", **{report.failed} wrong**" if report.failed else "") + "\n\n")
    rows = [(cell(name), code(wrt), kind, code(claimed), cell(actual), verdict, cell(how))
            for name, wrt, kind, claimed, actual, verdict, how in _rows(report)]
    return head + table(("claim", "∂/∂", "kind", "claimed", "backprop", "verdict", "how"),
                        rows) + "\n"


def claims_junit(report) -> str:
    """JUnit XML: one testsuite for the file, one testcase per claim, a wrong claim as a
    failure whose message names each wrong partial."""
    suites = ET.Element("testsuites", name="backprop check", tests=str(len(report.results)),
                        failures=str(report.failed), errors="0",
                        time=f"{sum(r.seconds for r in report.results):.6f}")
    suite = ET.SubElement(suites, "testsuite", name=report.source,
                          tests=str(len(report.results)), failures=str(report.failed),
                          errors="0", skipped="0",
                          time=f"{sum(r.seconds for r in report.results):.6f}")
    for result in report.results:
        case = ET.SubElement(suite, "testcase", name=result.claim.name,
                             classname=report.source, file=report.source,
                             line=str(result.claim.line), time=f"{result.seconds:.6f}")
        lines = [f"d/d{f.wrt} of {result.claim.expr}: claimed {f.claimed}; "
                 f"{_status(f.ok)} ({f.detail or f.method})" for f in result.findings]
        if not result.ok:
            wrong = [f"d/d{f.wrt}" for f in result.findings if not f.ok]
            failure = ET.SubElement(case, "failure", type="WrongClaim",
                                    message=f"{', '.join(wrong)} of {result.claim.expr} wrong")
            failure.text = "\n".join(lines)
        else:
            ET.SubElement(case, "system-out").text = "\n".join(lines)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"
