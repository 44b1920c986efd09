// The registration form's typing aids (served from the console's static folder: the CSP allows no inline
// script). Everything here is a convenience: the server fills the same fields when they arrive empty
// (issuer/prefill.py) and checks every value, so the form works the same without this script.
"use strict";

(function () {
  const form = document.getElementById("register");
  if (!form) return;
  const citizenId = form.elements.namedItem("citizen_id");
  const birthDate = form.elements.namedItem("birth_date");
  const sex = form.elements.namedItem("sex");
  const type = form.elements.namedItem("type");
  const validUntil = form.elements.namedItem("valid_until");
  const ethnicity = form.elements.namedItem("ethnicity");
  const filter = document.getElementById("ethnicity-filter");

  // GB 11643: digits 7-14 are the birth date (YYYYMMDD), the 17th digit's parity the sex (odd: male).
  function fromCitizenId() {
    const id = citizenId.value.trim().toUpperCase();
    if (!/^[0-9]{17}[0-9X]$/.test(id)) return;
    const y = Number(id.slice(6, 10)), m = Number(id.slice(10, 12)), d = Number(id.slice(12, 14));
    const day = new Date(Date.UTC(y, m - 1, d));
    if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return;
    birthDate.value = id.slice(6, 10) + "-" + id.slice(10, 12) + "-" + id.slice(12, 14);
    sex.value = Number(id[16]) % 2 === 1 ? "1" : "2";
  }
  citizenId.addEventListener("input", fromCitizenId);

  // The longest validity of the chosen type (the server's, in each option), until the clerk types a date.
  let untilTyped = false;
  validUntil.addEventListener("input", function () { untilTyped = true; });
  type.addEventListener("change", function () {
    const until = type.selectedOptions[0] && type.selectedOptions[0].dataset.validUntil;
    if (!untilTyped && until) validUntil.value = until;
  });

  // The 民族 list filtered by what is typed (Chinese name, English name or code); the first match is chosen.
  filter.addEventListener("input", function () {
    const query = filter.value.trim().toLowerCase();
    let first = null;
    for (const option of ethnicity.options) {
      const names = option.dataset.names || "";
      const match = query === "" || names.includes(query) || option.value === query;
      option.hidden = !match;
      if (match && first === null) first = option;
    }
    if (first !== null && query !== "") ethnicity.value = first.value;
  });
  filter.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();  // Enter picks, it does not submit half a form
  });
})();
