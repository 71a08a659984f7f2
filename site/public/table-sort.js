// Progressive enhancement for tables marked data-sortable / data-filterable: sort by a column
// (header buttons, so mouse and keyboard both work) and filter rows by text. Without this
// script every table is complete and readable; it only reorders and hides rows.
"use strict";

function cellKey(cell, numeric) {
  if (!cell) return numeric ? null : "";
  const raw = cell.dataset.value ?? cell.textContent.trim();
  if (!numeric) return raw.toLowerCase();
  return raw === "" || Number.isNaN(Number(raw)) ? null : Number(raw);
}

function sortBy(table, th, index) {
  const numeric = th.dataset.sortType === "number";
  // The first click on a column puts the best first: descending for numbers unless the column
  // says lower is better (data-better="asc", e.g. losses); text goes A to Z.
  const current = th.getAttribute("aria-sort");
  const ascending = current ? current === "descending" : !numeric || th.dataset.better === "asc";
  for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows).map((row) => ({ row, key: cellKey(row.cells[index], numeric) }));
  rows.sort((a, b) => {
    // Missing values always go last, whichever the direction.
    if (a.key === null || b.key === null) return (a.key === null) - (b.key === null);
    const order = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    return ascending ? order : -order;
  });
  body.append(...rows.map((r) => r.row));
}

function makeSortable(table) {
  Array.from(table.tHead.rows[0].cells).forEach((th, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.append(...th.childNodes);
    th.append(button);
    button.addEventListener("click", () => sortBy(table, th, index));
  });
}

function makeFilterable(table) {
  const label = document.createElement("label");
  label.className = "filter";
  label.textContent = "Filter rows ";
  const input = document.createElement("input");
  input.type = "search";
  label.append(input);
  const anchor = table.closest(".scroll") ?? table;
  anchor.before(label);
  input.addEventListener("input", () => {
    const query = input.value.trim().toLowerCase();
    for (const row of table.tBodies[0].rows) row.hidden = query !== "" && !row.textContent.toLowerCase().includes(query);
  });
}

for (const table of document.querySelectorAll("table[data-sortable]")) makeSortable(table);
for (const table of document.querySelectorAll("table[data-filterable]")) makeFilterable(table);
