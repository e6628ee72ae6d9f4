"""A Sphinx extension for the book's HTML, as a reader meets it (listed under
``sphinx.extra_extensions`` in ``_config.yml``).

- Thebe and the launch buttons are dropped: they need a live kernel and the network, and
  jupyter-book adds thebe's configuration script twice (a JavaScript error on each page).
- The download menu offers each chapter's ``.py`` twin, the file a reader edits, beside the
  ``.ipynb``; the twins are copied from ``$CCBOOK_BOOK_SOURCE`` (the project's ``book/``,
  set by ``cclib build``) into ``_sources/``.
- Every image gets alt text: the first sentence of its figure's caption, else the figure's
  name (not the hash file name myst-nb gives glued figures).
- One citation style: the bibliography labels its entries by author and year, as the text
  cites them (``ccbook_author_year``, a pybtex style).
- The cell that records a claim gets the anchor ``computed-<id>``, which the Claims page
  links to.
- ``ccbook.css`` (wrapping, tables that fit the column) and ``ccbook.js`` (the Claims page's
  filters and links; no CDN), both in ``book/_static``, are added to every page.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes

TWINS_ENV = "CCBOOK_BOOK_SOURCE"


# --- thebe and launch buttons -------------------------------------------------------------


def _is_thebe(asset: Any) -> bool:
    filename = str(getattr(asset, "filename", None) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in filename or "THEBE_JS_URL" in body


def drop_thebe(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Remove thebe's scripts and styles and the launch buttons from a page."""
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]
    buttons = context.get("header_buttons")
    if buttons is not None:
        buttons[:] = [b for b in buttons if b.get("label") != "launch-buttons"]
    context["use_thebe"] = False
    # pydata-sphinx-theme logs an error on every page when the colour mode is empty.
    context["default_mode"] = context.get("default_mode") or "auto"


# --- the .py twins ------------------------------------------------------------------------


def twins_dir() -> Path | None:
    path = os.environ.get(TWINS_ENV)
    return Path(path) if path and Path(path).is_dir() else None


def twin_of(pagename: str) -> Path | None:
    """The ``.py`` twin of a page (``book/mixing`` -> ``$CCBOOK_BOOK_SOURCE/mixing.py``)."""
    folder = twins_dir()
    if folder is None or not pagename.startswith("book/"):
        return None
    twin = folder / f"{pagename.removeprefix('book/')}.py"
    return twin if twin.is_file() else None


def offer_twin(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Put the page's ``.py`` twin in the download menu, beside the ``.ipynb``."""
    twin = twin_of(pagename)
    if twin is None:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        url = f"{context['pathto']('_sources', 1)}/{pagename}.py"
        entry = {
            "type": "link",
            "url": url,
            "text": ".py",
            "tooltip": "Download the chapter's source (.py twin, the file to edit)",
            "icon": "fab fa-python",
            "label": "download-twin-button",
        }
        group["buttons"].insert(1, entry)


def copy_twins(app, exception) -> None:
    """Copy every page's twin into ``_sources/`` of the HTML output."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in app.env.found_docs:
        twin = twin_of(docname)
        if twin is not None:
            target = Path(app.outdir) / "_sources" / f"{docname}.py"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(twin, target)


# --- alt text -----------------------------------------------------------------------------


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return (match.group(1) if match else text)[:300]


def _figure_of(node: nodes.Node) -> nodes.Element | None:
    while node is not None:
        if isinstance(node, nodes.figure):
            return node
        node = node.parent
    return None


def _needs_alt(image: nodes.image) -> bool:
    alt = image.get("alt", "")
    uri = image.get("uri", "")
    return not alt or alt == uri or Path(uri).name in alt or alt.endswith((".png", ".svg"))


def add_alt_text(app, doctree: nodes.document, docname: str) -> None:
    """Alt text for every image: its figure's caption (first sentence) or name."""
    title = next(iter(doctree.findall(nodes.title)), None)
    page = title.astext() if title is not None else docname
    for image in doctree.findall(nodes.image):
        if not _needs_alt(image):
            continue
        figure = _figure_of(image)
        caption = None
        if figure is not None:
            caption = next(iter(figure.findall(nodes.caption)), None)
        if caption is not None and caption.astext().strip():
            image["alt"] = first_sentence(caption.astext())
        elif figure is not None and figure.get("names"):
            image["alt"] = figure["names"][0]
        else:
            image["alt"] = f"A figure of the page {page}"


# --- claim anchors ------------------------------------------------------------------------

CLAIMS_ENV = "CCBOOK_CLAIMS_DIR"


def chapter_claim_ids(docname: str) -> list[str]:
    """The ids of the claims a chapter recorded in this build (``$CCBOOK_CLAIMS_DIR``)."""
    folder = os.environ.get(CLAIMS_ENV)
    if not folder or not docname.startswith("book/"):
        return []
    path = Path(folder) / f"{docname.removeprefix('book/')}.claims.json"
    if not path.is_file():
        return []
    return [c["id"] for c in json.loads(path.read_text(encoding="utf-8"))["claims"]]


def id_pattern(template: str) -> re.Pattern:
    """A claim id written in a cell (``f"mixing.{name}_beats_naive"``) as a regex."""
    parts = re.split(r"\{[^{}]*\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts) + "$")


def _cells(doctree: nodes.document) -> list[nodes.Element]:
    return [n for n in doctree.findall(nodes.container) if "cell" in n.get("classes", [])]


def _source(cell: nodes.Element) -> str:
    return "\n".join(b.astext() for b in cell.findall(nodes.literal_block))


def add_claim_anchors(app, doctree: nodes.document, docname: str) -> None:
    """Give the cell that records each claim the anchor ``computed-<id>`` (the Claims page
    links to it): the ``claims.record(id=...)`` cell whose id (or f-string template) matches.
    Other claims are anchored at the last cell that passes ``claims`` to a helper (such as
    ``mech.record_claims(claims, ...)``), else at the chapter's ``claims.table()`` cell."""
    from .claims import claim_anchor

    def source_anchor(claim_id: str) -> str:  # beside the chapter table's claim-<id> rows
        return "computed-" + claim_anchor(claim_id).removeprefix("claim-")

    remaining = chapter_claim_ids(docname)
    cells = _cells(doctree)
    if not remaining or not cells:
        return
    fallback = cells[-1]
    recorder = None  # the last cell that hands the recorder to a helper (ids not in sight)
    for cell in cells:
        source = _source(cell)
        if "claims.table()" in source:
            fallback = cell
        if re.search(r"\(claims\b", source):
            recorder = cell
        if "claims.record(" not in source:
            continue
        patterns = [id_pattern(t) for t in re.findall(r"id=f?[\"']([^\"']+)[\"']", source)]
        found = [i for i in remaining if any(p.match(i) for p in patterns)]
        for claim_id in found:
            cell["ids"].append(source_anchor(claim_id))
            remaining.remove(claim_id)
    for claim_id in remaining:
        (recorder or fallback)["ids"].append(source_anchor(claim_id))


# --- citations ----------------------------------------------------------------------------


def register_citation_style() -> None:
    """Register ``ccbook_author_year``: pybtex's unsrt entries labelled like the text's
    citations ("Bhagat et al., 2025"), sorted by author and year."""
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.unsrt import Style as UnsrtStyle
    from pybtex.style.labels import BaseLabelStyle
    from pybtex.style.sorting.author_year_title import SortingStyle

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            for entry in sorted_entries:
                persons = entry.persons.get("author") or entry.persons.get("editor") or []
                names = [" ".join(p.last_names) or str(p) for p in persons]
                if len(names) > 2:
                    who = f"{names[0]} et al."
                elif len(names) == 2:
                    who = f"{names[0]} and {names[1]}"
                else:
                    who = names[0] if names else entry.key
                yield f"{who}, {entry.fields.get('year', 'n.d.')}"

    class AuthorYearStyle(UnsrtStyle):
        default_label_style = AuthorYearLabels
        default_sorting_style = SortingStyle

    register_plugin("pybtex.style.formatting", "ccbook_author_year", AuthorYearStyle, force=True)

    from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
    from sphinxcontrib.bibtex.style.referencing import BracketStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    def round_brackets() -> BracketStyle:
        return BracketStyle(left="(", right=")")

    @dataclasses.dataclass
    class RoundAuthorYear(AuthorYearReferenceStyle):
        """Author-year citations in round brackets: "Bhagat et al. (2025)"."""

        bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_textual: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_author: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_label: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_year: BracketStyle = dataclasses.field(default_factory=round_brackets)

    register_bibtex_plugin(
        "sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYear, force=True
    )


# --- assets -------------------------------------------------------------------------------


def setup(app) -> dict[str, Any]:
    register_citation_style()
    # Both live in book/_static, the book's static folder.
    app.add_css_file("ccbook.css")
    app.add_js_file("ccbook.js", defer="defer")
    app.connect("doctree-resolved", add_alt_text)
    app.connect("doctree-resolved", add_claim_anchors)
    # After the theme has built its header buttons (priority 501).
    app.connect("html-page-context", drop_thebe, priority=600)
    app.connect("html-page-context", offer_twin, priority=600)
    app.connect("build-finished", copy_twins)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
