"""The runbook keeps the seed skeleton's table of contents.

Operators who know the skeleton look for its words: each of its sections is a `##` heading of
`docs/runbook.md`, in the skeleton's order, starting with the skeleton's title (the runbook's own
words may follow after a colon), and the diagrams live under "Diagrams".
"""

from __future__ import annotations

import re
from pathlib import Path

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"

# The seed skeleton's table of contents (its sections and their subsections), in its order.
SKELETON: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Overview", ()),
    ("Prerequisites", ()),
    ("Environment Variables", ()),
    ("Startup & Run", ()),
    ("Authentication", ("Obtaining a token", "Attaching it", "Expiry and refresh")),
    ("API Surface (Phase 2)", ()),
    ("Observability", ("Metrics", "Logs", "Traces")),
    ("Health Checks", ()),
    ("Troubleshooting", ("Common issues", "Collecting logs", "Reproducing failures", "Escalation")),
    ("Cross-References", ()),
    ("Diagrams", ()),
)


def _sections(text: str) -> list[tuple[str, list[str], str]]:
    """Each `##` section: its title without the number, its `###` titles, and its body."""
    sections: list[tuple[str, list[str], str]] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            if sections:
                sections[-1] = (sections[-1][0], sections[-1][1], sections[-1][2] + line + "\n")
            continue
        if line.startswith("## "):
            sections.append((re.sub(r"^\d+\.\s*", "", line[3:]).strip(), [], ""))
        elif line.startswith("### ") and sections:
            sections[-1][1].append(line[4:].strip())
        elif sections:
            sections[-1] = (sections[-1][0], sections[-1][1], sections[-1][2] + line + "\n")
    return sections


def _starts_with(title: str, skeleton_title: str) -> bool:
    return title == skeleton_title or title.startswith(f"{skeleton_title}:") or title.startswith(f"{skeleton_title},")


def test_the_sections_are_the_skeletons_in_its_order() -> None:
    sections = _sections(RUNBOOK.read_text(encoding="utf-8"))
    assert [title for title, _, _ in sections][: len(SKELETON)] and len(sections) == len(SKELETON), [
        title for title, _, _ in sections
    ]
    for (title, subtitles, _), (skeleton_title, skeleton_subtitles) in zip(sections, SKELETON, strict=True):
        assert _starts_with(title, skeleton_title), f"section {title!r} should carry the skeleton's {skeleton_title!r}"
        positions = []
        for wanted in skeleton_subtitles:
            found = [i for i, subtitle in enumerate(subtitles) if _starts_with(subtitle, wanted)]
            assert found, f"{skeleton_title}: no subsection {wanted!r} among {subtitles}"
            positions.append(found[0])
        assert positions == sorted(positions), f"{skeleton_title}: subsections out of the skeleton's order"


def test_the_table_of_contents_links_every_section() -> None:
    text = RUNBOOK.read_text(encoding="utf-8")
    contents = text[: text.index("\n## ")]
    for number, (skeleton_title, _) in enumerate(SKELETON, start=1):
        assert re.search(rf"^{number}\. \[{re.escape(skeleton_title)}", contents, re.MULTILINE), skeleton_title


def test_the_diagrams_are_under_diagrams() -> None:
    sections = _sections(RUNBOOK.read_text(encoding="utf-8"))
    with_diagrams = [title for title, _, body in sections if "```mermaid" in body]
    assert with_diagrams == ["Diagrams"], with_diagrams
    diagrams = dict((title, body) for title, _, body in sections)["Diagrams"]
    # The reference's layers as the skeleton draws them: gateway → orchestrator → plugins → bus → store.
    order = [diagrams.index(name) for name in ("gateway", "orchestrator", "plugins", "bus", "store")]
    assert order == sorted(order)
