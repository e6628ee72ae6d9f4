/* ccbook: the Claims page's filters and links back to the chapters, and links from a
   chapter's claims table to the Claims page. Plain JavaScript, shipped with the book (no
   CDN). Claim rows are the <tr data-state data-chapter id="claim-<id>"> of
   cclib.book.claims.ClaimsTable. */
(function () {
  "use strict";

  const claimRows = table => Array.from(table.querySelectorAll("tr[data-state]"));

  function claimsPage(table) {
    const rows = claimRows(table);
    // Each claim links to the cell of its chapter that computes it (cclib.book.html).
    for (const row of rows) {
      const cell = row.cells[0];
      if (!cell || cell.querySelector("a.ccbook-claim-source")) continue;
      const link = document.createElement("a");
      link.className = "ccbook-claim-source";
      link.href = `${row.dataset.chapter}.html#${row.id.replace(/^claim-/, "computed-")}`;
      link.title = "the cell of the chapter that computes this claim";
      link.textContent = `computed in ${row.dataset.chapter} \u2192`;
      cell.append(" ", link);
    }
    // Filters by chapter and by state; group rows are shown while a claim under them is.
    const menu = (name, values) => {
      const label = document.createElement("label");
      label.textContent = `${name} `;
      const select = document.createElement("select");
      select.dataset.filter = name;
      for (const value of ["", ...values]) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = value || "all";
        select.append(option);
      }
      label.append(select);
      return label;
    };
    const unique = key => Array.from(new Set(rows.map(r => r.dataset[key])));
    const bar = document.createElement("div");
    bar.className = "ccbook-claims-filters";
    bar.append(
      menu("paper", unique("paper").filter(Boolean)),
      menu("chapter", unique("chapter")),
      menu("state", unique("state").sort()),
    );
    const count = document.createElement("span");
    count.className = "ccbook-claims-count";
    bar.append(count);
    table.parentNode.insertBefore(bar, table);
    const selects = Array.from(bar.querySelectorAll("select"));

    function apply() {
      let shown = 0;
      for (const row of rows) {
        const keep = selects.every(s => !s.value || row.dataset[s.dataset.filter] === s.value);
        row.style.display = keep ? "" : "none";
        shown += keep;
      }
      // a group heading stays while any claim row after it (up to the next heading) shows
      const all = Array.from(table.tBodies[0].rows);
      for (let i = all.length - 1, visible = {paper: false, source: false}; i >= 0; i--) {
        const row = all[i];
        if (row.dataset.state) {
          if (row.style.display !== "none") visible.paper = visible.source = true;
        } else if (row.classList.contains("ccbook-claims-source")) {
          row.style.display = visible.source ? "" : "none";
          visible.source = false;
        } else if (row.classList.contains("ccbook-claims-paper")) {
          row.style.display = visible.paper ? "" : "none";
          visible.paper = false;
        }
      }
      count.textContent = `${shown} of ${rows.length} claims shown`;
    }
    selects.forEach(s => s.addEventListener("change", apply));
    apply();
    sortable(table);
  }

  function sortable(table) {
    /* A click on a column's header sorts the claims by that column inside each group
       (figure or section), numbers as numbers; a second click reverses the order. */
    const headers = Array.from(table.tHead ? table.tHead.rows[0].cells : []);
    const key = (row, column) => {
      const text = (row.cells[column] ? row.cells[column].textContent : "").trim();
      const number = parseFloat(text.replace(/[^0-9eE.+\u2212-].*$/, "").replace("\u2212", "-"));
      return Number.isNaN(number) ? text.toLowerCase() : number;
    };
    headers.forEach((header, column) => {
      header.style.cursor = "pointer";
      header.title = "sort the claims of each group by this column";
      header.dataset.sort = "";
      header.addEventListener("click", () => {
        const descending = header.dataset.sort === "ascending";
        headers.forEach(h => { h.dataset.sort = ""; });
        header.dataset.sort = descending ? "descending" : "ascending";
        const body = table.tBodies[0];
        const all = Array.from(body.rows);
        let run = [];
        const flush = before => {
          run.sort((a, b) => {
            const x = key(a, column), y = key(b, column);
            const order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === "number" ? -1 : 1;
            return descending ? -order : order;
          });
          for (const row of run) body.insertBefore(row, before);
          run = [];
        };
        for (const row of all) {
          if (row.dataset.state) run.push(row);
          else flush(row);
        }
        flush(null);
      });
    });
  }

  function linkChapterClaims(table) {
    /* A chapter's own claims table: each claim id links to its row on the Claims page. */
    const nav = document.querySelector("a[href$='claims.html']");
    if (!nav) return;
    const page = nav.getAttribute("href").split("#")[0];
    for (const row of claimRows(table)) {
      const code = row.querySelector("code");
      if (!code || code.closest("a")) continue;
      const link = document.createElement("a");
      link.href = `${page}#${row.id}`;
      link.title = "this claim on the Claims page";
      code.replaceWith(link);
      link.append(code);
    }
  }

  function init() {
    document.querySelectorAll("table.ccbook-claims").forEach(table => {
      if (table.querySelector("tr.ccbook-claims-paper")) claimsPage(table);
      else linkChapterClaims(table);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
