"""The pieces behind the rendered book as a reader sees it, without a browser: formatted
tables, the parameters table, the Sphinx extension's helpers and
the figures' column layout."""

from __future__ import annotations

import pytest

from cclib.book import html as book_html
from cclib.book import plotting
from cclib.book.specs import get_spec
from cclib.book.tables import ParametersTable, Table


def test_table_html_and_text():
    table = Table(["kind", "loss"], [["clean", "0.0833 ± 0.0010"], ["mixed", "0.0712"]])
    html = table._repr_html_()
    assert html.count("<tr>") == 3 and 'class="num"' in html and "clean" in html
    text = repr(table).splitlines()
    assert text[0].split() == ["kind", "loss"] and set(text[1]) <= {"-", " "}
    assert "Table(" not in repr(table)


def test_parameters_table_marks_overrides():
    spec = get_spec("mixing")
    cfg = spec.resolve("smoke", p=0.02)
    table = ParametersTable(spec, cfg)
    html = table._repr_html_()
    assert "profile <strong>smoke</strong>" in html
    assert "<code>p</code></td><td><strong>0.02</strong>" in html
    assert len(table.entries) == len(spec.params)
    assert "None" not in html


@pytest.mark.parametrize(
    "template, claim_id, matches",
    [
        ("mixing.clean_matches_naive", "mixing.clean_matches_naive", True),
        ("mixing.{claim_id}_beats_naive", "mixing.symmetric_beats_naive", True),
        ("mixing.{claim_id}_beats_naive", "mixing.min_loss_symmetric", False),
        ("mixing.sigma_optimum_{name}", "mixing.sigma_optimum_asymmetric", True),
    ],
)
def test_claim_id_templates(template, claim_id, matches):
    assert bool(book_html.id_pattern(template).match(claim_id)) is matches


def test_alt_text_is_the_caption_first_sentence():
    text = "Loss per feature against p. Lines are seed means."
    assert book_html.first_sentence(text) == "Loss per feature against p."


@pytest.mark.parametrize(
    "request_, expected_cols",
    [((1, 1, 6.4, 3.8), 1), ((2, 1, 9.0, 3.6), 2), ((4, 1, 14.0, 3.4), 2), ((3, 1, 11.0, 3.6), 2)],
)
def test_figures_fit_the_column(request_, expected_cols):
    ncols, nrows, width, height = plotting.column_layout(*request_)
    assert width <= plotting.MAX_WIDTH and ncols == expected_cols
    assert ncols * nrows >= request_[0] * request_[1]
    # panels keep their aspect ratio
    old_aspect = (request_[2] / request_[0]) / (request_[3] / request_[1])
    assert (width / ncols) / (height / nrows) == pytest.approx(old_aspect)


def test_figure_returns_as_many_axes_as_asked():
    fig, axes = plotting.figure(ncols=4, width=14.0, height=3.4)
    assert len(axes) == 4 and len(fig.axes) == 4
    assert fig.get_figwidth() <= plotting.MAX_WIDTH
    plotting.plt.close(fig)
