"""An axe-core scan of the page as it is (axe from the frontend's own node_modules): the serious
and critical violations, each as "rule-id: help (selectors)"."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests_support.live import ROOT

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Page, include: str | None = None) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results: dict[str, Any] = page.evaluate(
        """async (include) => await window.axe.run(include ? document.querySelector(include) : document,
             {resultTypes: ['violations']})""",
        include,
    )
    return [
        f"{v['id']}: {v['help']} ({', '.join(str(n['target']) for n in v['nodes'][:3])})"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
