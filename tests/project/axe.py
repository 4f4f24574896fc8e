"""axe-core, Deque's accessibility checker, run on a page open in Playwright.

axe-core's ``axe.min.js`` (the npm package's file, MPL-2.0) comes with the PyPI package
``axe-playwright-python`` (a pin of the dev lock), so no test needs node or the network. The page
gets the script, ``axe.run`` checks the rules of the given WCAG tags, and each violation comes
back as ``{"id", "impact", "help", "helpUrl", "targets"}`` (targets: a CSS selector per element).
axe fetches the page's style sheets again (css-orientation-lock reads them) and takes an
``@import`` relative to the page, not to its sheet: a test that counts the page's failed
requests stops counting before it runs axe.
"""

from __future__ import annotations

from typing import Any

# The rules of WCAG 2.1, levels A and AA: what a university's public pages must meet.
WCAG21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# Every rule of the tags, the ones axe-core calls experimental (off by default) included: one of
# them, label-content-name-mismatch, is WCAG 2.1 A (2.5.3 Label in Name).
RUN_JS = """async (tags) => {
  const rules = axe.getRules(tags).map(rule => rule.ruleId);
  const results = await axe.run(document, {runOnly: {type: 'rule', values: rules},
                                           resultTypes: ['violations']});
  return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       helpUrl: v.helpUrl,
                                       targets: v.nodes.map(n => n.target.flat().join(' >>> '))}));
}"""


def axe_script() -> str:
    """The text of axe-core's ``axe.min.js``."""
    from axe_playwright_python.base import AXE_FILE_PATH

    return AXE_FILE_PATH.read_text(encoding="utf-8")


def axe_version(page: Any) -> str:
    """The version of axe-core that ``axe_violations`` put in ``page``."""
    return page.evaluate("axe.version")


def axe_violations(page: Any, *, tags: tuple[str, ...] = WCAG21_AA) -> list[dict[str, Any]]:
    """The violations axe-core finds in the loaded ``page`` (a Playwright page) for the rules
    tagged with any of ``tags``; [] when it finds none."""
    if not tags or not all(isinstance(tag, str) and tag for tag in tags):
        raise ValueError(f"tags must be axe-core rule tags such as {WCAG21_AA}, got {tags!r}")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe_script())   # evaluated, not a <script> tag: no page policy blocks it
    return page.evaluate(RUN_JS, list(tags))


def describe(violations: list[dict[str, Any]]) -> list[str]:
    """One line per violation: rule id, impact, the elements' selectors, and its help."""
    return [f"axe {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}] at "
            + ", ".join(v["targets"]) for v in violations]
