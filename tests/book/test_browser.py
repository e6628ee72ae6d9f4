"""The rendered book as a reader meets it: every page of the session's smoke build opened in
headless Chromium (Debian's ``/usr/bin/chromium``, driven by playwright-python; nothing
downloads a browser) at 1400 x 900, served from a local HTTP server.

Each page is visited once (``visits``); the checks below read what that visit measured.
Chromium is required: without it these tests fail (``apt-get install chromium``), so
``make test`` cannot skip them silently.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from cclib.book.claims import claim_anchor
from cclib.book.runner import notebook_chapters

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = notebook_chapters(ROOT)
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}
#: Largest share of a chapter's height that visible code cells may take.
MAX_CODE_SHARE = 0.20
#: Smallest rendered width of an image, as a share of its natural width.
MIN_IMAGE_SCALE = 0.70
#: A word of each chapter that the book's search must find it by.
KEYWORDS = {
    "equivalence": "equivalence",
    "naive_baseline": "naive",
    "mixing": "transplant",
    "mechanism": "eigenvectors",
    "semi_nmf": "semi-NMF",
    "regimes": "regimes",
    "uand_training": "Universal-AND",
    "uand_readout": "readout",
    "uand_variance": "variance",
    "claims": "claims",
}

#: Runs in the page after it loaded and MathJax finished: what the checks need, measured.
MEASURE = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await new Promise(r => setTimeout(r, 50));
  const article = document.querySelector("article.bd-article") || document.body;
  // Shown to a reader: not inside a closed <details> (Chromium still lays out folded
  // content, so its boxes have a size), not hidden, and with a size.
  const shown = el => {
    if (el.closest("details:not([open])") || !el.checkVisibility({visibilityProperty: true})) {
      return false;
    }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const describe = el => {
    const cell = el.closest(".cell");
    const id = cell && cell.id ? "#" + cell.id : "";
    const text = (el.innerText || "").trim().slice(0, 80).replace(/\s+/g, " ");
    return `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}${id}: ${text}`;
  };
  // Code cells' source shown (not folded), and the article's height.
  let code = 0;
  for (const el of article.querySelectorAll("div.cell_input")) {
    if (shown(el)) code += el.getBoundingClientRect().height;
  }
  const height = article.getBoundingClientRect().height;
  // Blocks wider than their box: they scroll sideways, or stick out of the article.
  const right = article.getBoundingClientRect().right + 1;
  const overflowing = [];
  const blocks = article.querySelectorAll(
    "pre, div.cell_output, div.output, table, .pst-scrollable-table-container, figure"
  );
  for (const el of blocks) {
    if (!shown(el)) continue;
    const scrolls = el.scrollWidth > el.clientWidth + 1 &&
      ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
    if (scrolls || el.getBoundingClientRect().right > right) overflowing.push(describe(el));
  }
  // Text a reader sees outside code and rendered maths: no raw markup may be left in it.
  const texts = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {
    acceptNode: node => node.parentElement.closest(
      "pre, code, mjx-container, script, style, .cell_input, .cell_output, .MathJax"
    ) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  while (walker.nextNode()) texts.push(walker.currentNode.textContent);
  // Maths: every math element rendered by MathJax, with no error.
  const maths = [...article.querySelectorAll(".math")];
  const unrendered = maths.filter(el => !el.querySelector("mjx-container"))
    .map(el => el.textContent.slice(0, 60));
  const mathErrors = [...document.querySelectorAll("mjx-merror")]
    .map(el => el.textContent.slice(0, 60));
  const images = [...document.querySelectorAll("article img, main img")].map(img => ({
    src: img.currentSrc || img.src,
    alt: img.alt,
    complete: img.complete,
    natural: img.naturalWidth,
    width: img.getBoundingClientRect().width,
    shown: shown(img),
  }));
  const links = [...document.querySelectorAll("a[href]")].map(a => a.href);
  const ids = [...document.querySelectorAll("[id]")].map(el => el.id);
  return {code, height, overflowing, text: texts.join(" "), maths: maths.length, unrendered,
          mathErrors, images, links, ids, title: document.title};
}
"""

RAW_MARKUP = ["{glue", "{ref}", "{numref}", "{eq}", "{cite", "{doc}", "$$", "\\(", "\\["]


@dataclass
class Visit:
    """What one page showed: its measurements and what went wrong while it loaded."""

    url: str
    seconds: float
    measured: dict
    errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on the test's output
        pass


@pytest.fixture(scope="session")
def html_dir(smoke_build) -> Path:
    assert smoke_build.returncode == 0, smoke_build.stderr[-3000:]
    return smoke_build.build_dir / "html"


@pytest.fixture(scope="session")
def site(html_dir):
    """The built HTML served over HTTP on localhost (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_page(browser, site: str):
    """A fresh page at 1400 x 900 that records JavaScript errors and blocks (and records)
    every request that is not to the local server."""
    page = browser.new_page(viewport=VIEWPORT)
    page.errors, page.offsite = [], []
    page.on("pageerror", lambda exc: page.errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: page.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )

    def route(route):
        url = route.request.url
        if url.startswith(site) or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            page.offsite.append(url)
            route.abort()

    page.route("**/*", route)
    return page


def page_files(html_dir: Path) -> list[str]:
    """Every page of the book (relative to the HTML folder; index.html only redirects)."""
    return sorted(f"book/{p.name}" for p in (html_dir / "book").glob("*.html"))


@pytest.fixture(scope="session")
def visits(browser, site, html_dir) -> dict[str, Visit]:
    """Every page opened once and measured (``MEASURE``), keyed by its path."""
    result = {}
    for name in page_files(html_dir):
        page = open_page(browser, site)
        start = time.perf_counter()
        page.goto(site + name, wait_until="load")
        measured = page.evaluate(MEASURE)
        result[name] = Visit(
            site + name, time.perf_counter() - start, measured, page.errors, page.offsite
        )
        page.close()
    report = {
        name: {
            "seconds": round(v.seconds, 2),
            "code_share": round(v.measured["code"] / max(v.measured["height"], 1), 3),
        }
        for name, v in result.items()
    }
    (html_dir.parent / "browser-report.json").write_text(json.dumps(report, indent=1))
    return result


def test_every_page_visited(visits):
    assert "book/claims.html" in visits
    for name in CHAPTERS:
        assert f"book/{name}.html" in visits, name


def test_no_javascript_error_and_nothing_off_the_server(visits):
    problems = {n: v.errors + v.offsite for n, v in visits.items() if v.errors or v.offsite}
    assert not problems, problems


def test_maths_rendered_and_no_raw_markup(visits):
    problems = {}
    for name, visit in visits.items():
        m = visit.measured
        raw = [token for token in RAW_MARKUP if token in m["text"]]
        if m["unrendered"] or m["mathErrors"] or raw:
            problems[name] = {"unrendered": m["unrendered"], "errors": m["mathErrors"], "raw": raw}
    assert not problems, problems
    assert visits["book/naive_baseline.html"].measured["maths"] > 0


def test_images_loaded_and_legible(visits):
    problems, count = [], 0
    for name, visit in visits.items():
        for image in visit.measured["images"]:
            if not image["shown"]:
                continue
            count += 1
            if not image["complete"] or image["natural"] == 0:
                problems.append(f"{name}: {image['src']} did not load")
            elif image["width"] < MIN_IMAGE_SCALE * image["natural"]:
                scale = image["width"] / image["natural"]
                problems.append(f"{name}: {image['src']} shown at {scale:.0%}")
            if not image["alt"] or Path(urlparse(image["src"]).path).stem in image["alt"]:
                problems.append(f"{name}: {image['src']} has alt text {image['alt']!r}")
    assert count > 0
    assert not problems, "\n".join(problems)


def test_no_block_wider_than_its_box(visits):
    problems = {n: v.measured["overflowing"] for n, v in visits.items()}
    problems = {n: p for n, p in problems.items() if p}
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


def test_internal_links_and_anchors_resolve(visits, site, html_dir):
    ids = {urlparse(v.url).path: set(v.measured["ids"]) for v in visits.values()}
    problems = set()
    for name, visit in visits.items():
        for link in visit.measured["links"]:
            if not link.startswith(site):
                continue
            target, fragment = urldefrag(link)
            path = urlparse(target).path
            file = html_dir / unquote(path.lstrip("/"))
            if file.is_dir():
                file = file / "index.html"
            if not file.is_file():
                problems.add(f"{name}: {link} (no such file)")
            elif fragment and path in ids and unquote(fragment) not in ids[path]:
                problems.add(f"{name}: {link} (no such anchor)")
            elif (
                fragment
                and path not in ids
                and f'id="{unquote(fragment)}"' not in (file.read_text(errors="replace"))
            ):
                problems.add(f"{name}: {link} (no such anchor)")
    assert not problems, "\n".join(sorted(problems))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_visible_code_is_at_most_a_fifth_of_a_chapter(visits, chapter):
    measured = visits[f"book/{chapter}.html"].measured
    share = measured["code"] / measured["height"]
    assert share <= MAX_CODE_SHARE, f"{chapter}: visible code is {share:.0%} of the page"


def test_python_twin_offered_for_download(visits, site, html_dir):
    for chapter in CHAPTERS:
        links = visits[f"book/{chapter}.html"].measured["links"]
        twins = [link for link in links if link.endswith(f"{chapter}.py")]
        assert twins, f"{chapter}: no link to its .py twin"
        file = html_dir / unquote(urlparse(twins[0]).path.lstrip("/"))
        assert file.read_text().startswith("# %%") or "# %% [markdown]" in file.read_text()


def test_search_finds_each_chapter(browser, site):
    missing = {}
    for chapter, keyword in KEYWORDS.items():
        if chapter not in CHAPTERS:
            continue
        page = open_page(browser, site)
        page.goto(f"{site}search.html?q={keyword}", wait_until="load")
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results');"
            " return s && /Search finished|found|did not match/i.test(s.innerText); }",
            timeout=30_000,
        )
        hrefs = page.eval_on_selector_all("#search-results a", "els => els.map(e => e.href)")
        if not any(f"book/{chapter}.html" in h for h in hrefs):
            missing[chapter] = (keyword, hrefs[:5])
        assert not page.errors and not page.offsite, (page.errors, page.offsite)
        page.close()
    assert not missing, missing


def test_claims_page_filters_and_anchors_each_claim(browser, site, smoke_build):
    """Every claim has its row's anchor (``claims.html#claim-<id>``) and a link to the
    chapter cell that computes it; the chapter menu filters the rows."""
    executed = smoke_build.build_dir / "executed"
    claims = [
        c
        for name in CHAPTERS
        for c in json.loads((executed / f"{name}.claims.json").read_text())["claims"]
    ]
    page = open_page(browser, site)
    page.goto(site + "book/claims.html", wait_until="load")
    rows = page.locator("table.ccbook-claims tr[data-state]")
    assert rows.count() == len(claims)
    for claim in claims:
        row = page.locator(f"[id='{claim_anchor(claim['id'])}']")
        assert row.count() == 1, claim["id"]
        assert row.locator("a.ccbook-claim-source").count() == 1, claim["id"]
    chapter = claims[0]["chapter"]
    page.select_option("select[data-filter='chapter']", chapter)
    visible = page.eval_on_selector_all(
        "table.ccbook-claims tr[data-state]",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => r.dataset.chapter)",
    )
    assert visible and set(visible) == {chapter}
    page.select_option("select[data-filter='chapter']", "")
    page.select_option("select[data-filter='state']", "held")
    states = page.eval_on_selector_all(
        "table.ccbook-claims tr[data-state]",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => r.dataset.state)",
    )
    assert set(states) <= {"held"}
    page.select_option("select[data-filter='state']", "")
    paper = next(c["source"]["paper"] for c in claims if c.get("source"))
    page.select_option("select[data-filter='paper']", paper)
    papers = page.eval_on_selector_all(
        "table.ccbook-claims tr[data-state]",
        "rows => rows.filter(r => r.offsetParent !== null).map(r => r.dataset.paper)",
    )
    assert papers and set(papers) == {paper}
    page.select_option("select[data-filter='paper']", "")
    # a click on a header sorts each group's claims by that column (ids: the first cell)
    page.click("table.ccbook-claims thead th >> nth=0")
    groups = page.evaluate(SORTED_GROUPS)
    assert groups and all(g == sorted(g, key=sort_key) for g in groups), groups
    assert page.locator("table.ccbook-claims tr[data-state]").count() == len(claims)
    page.click("table.ccbook-claims thead th >> nth=0")
    groups = page.evaluate(SORTED_GROUPS)
    assert all(g == sorted(g, key=sort_key, reverse=True) for g in groups), groups
    assert not page.errors and not page.offsite, (page.errors, page.offsite)
    page.close()


def sort_key(text: str) -> tuple:
    """The Claims page script's order: numbers (a leading number) first, then text."""
    match = re.match(r"[0-9eE.+\u2212-]+", text)
    try:
        return (0, float(match.group(0).replace("\u2212", "-")), "") if match else (1, 0.0, text)
    except ValueError:
        return (1, 0.0, text)


SORTED_GROUPS = """() => {
  const groups = [[]];
  for (const row of document.querySelector("table.ccbook-claims").tBodies[0].rows) {
    const text = row.cells[0].textContent.trim().toLowerCase();
    if (row.dataset.state) groups[groups.length - 1].push(text);
    else groups.push([]);
  }
  return groups.filter(g => g.length > 1);
}"""
