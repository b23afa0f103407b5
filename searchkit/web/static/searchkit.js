// searchkit serve: the only script, and the pages work without it. It adds the "/" key that
// jumps to the search box, and a button that unfolds (or folds) every "also in" list at once;
// each list unfolds on its own without any script (a <details> element). It also goes to an
// article's marked paragraph when the link had no #pN, and makes a page restored from the
// back-forward cache show in its forms the search it holds.
"use strict";

document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  const typing = target.isContentEditable ||
    ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
  const box = document.getElementById("q");
  if (typing || !box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// An article asked for by a paragraph's id ("/article/story%2312") or with ?p= alone (a link
// whose #pN anchor was lost) marks the paragraph but would open at the top: go to it.
document.addEventListener("DOMContentLoaded", function () {
  const marked = document.querySelector(".paragraphs > li.marked");
  if (marked && !location.hash) location.replace("#" + marked.id);
});

document.addEventListener("DOMContentLoaded", function () {
  const lists = Array.from(document.querySelectorAll("details.also"));
  const first = document.querySelector(".hits, .paragraphs");
  if (lists.length < 2 || !first) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "unfold";
  button.textContent = "Unfold every “also in”";
  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", function () {
    const open = button.getAttribute("aria-expanded") !== "true";
    lists.forEach(function (details) { details.open = open; });
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "Fold every “also in”" : "Unfold every “also in”";
  });
  first.parentNode.insertBefore(button, first);
});

// A page restored whole by Back or Forward keeps what was typed into its forms and not sent:
// the filters shown would not be those of the results, and the next search would take them.
// (The forms' autocomplete="off" does the same for a page loaded again.)
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("form").forEach(function (form) { form.reset(); });
});
