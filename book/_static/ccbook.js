/* ccbook: the Claims page's filters and sorting, and links from a chapter's claims table
   to the Claims page. Plain JavaScript, shipped with the book (no CDN). */
(function () {
  "use strict";

  function claimsPage(table) {
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const filters = Array.from(document.querySelectorAll(".ccbook-claims-filters select"));
    const count = document.querySelector(".ccbook-claims-count");

    function applyFilters() {
      let shown = 0;
      for (const row of rows) {
        const keep = filters.every(f => !f.value || row.dataset[f.dataset.filter] === f.value);
        row.style.display = keep ? "" : "none";
        shown += keep;
      }
      if (count) count.textContent = `${shown} of ${rows.length} claims shown`;
    }
    filters.forEach(f => f.addEventListener("change", applyFilters));

    function key(row, column) {
      if (column === "id" || column === "chapter" || column === "status") {
        return row.dataset[column] || "";
      }
      const cell = row.querySelector(`td[data-col='${column}']`);
      const value = cell ? parseFloat(cell.dataset.value) : NaN;
      return Number.isNaN(value) ? Infinity : value;
    }

    table.querySelectorAll("th[data-sort]").forEach((th, index) => {
      th.tabIndex = 0;
      const sort = () => {
        const column = th.dataset.sort;
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th[data-sort]").forEach(o => o.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const sorted = rows.slice().sort((a, b) => {
          const x = key(a, column), y = key(b, column);
          const order = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? order : -order;
        });
        sorted.forEach(row => body.appendChild(row));
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", e => { if (e.key === "Enter") sort(); });
    });
    applyFilters();
  }

  function linkChapterClaims(table) {
    /* A chapter's own claims table: each claim id links to its row on the Claims page. */
    const nav = document.querySelector("a[href$='claims.html']");
    if (!nav) return;
    const page = nav.getAttribute("href").split("#")[0];
    table.querySelectorAll("code").forEach(code => {
      if (code.closest("a")) return;
      const link = document.createElement("a");
      link.href = `${page}#${code.textContent.trim()}`;
      link.title = "this claim on the Claims page";
      code.replaceWith(link);
      link.appendChild(code);
    });
  }

  function init() {
    document.querySelectorAll("table.ccbook-claims").forEach(table => {
      if (table.classList.contains("ccbook-claims-page")) claimsPage(table);
      else linkChapterClaims(table);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
