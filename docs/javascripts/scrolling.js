// A box that scrolls sideways (a display formula, a code block or a table wider than its
// column, on a phone say) can take the keyboard's focus (tabindex), so that a reader without a
// mouse can scroll it with the arrow keys; a formula's or a table's box is named for a screen
// reader, a code block keeps its own name. Checked again whenever a box's size changes (KaTeX
// typesets a formula after the page has loaded; the window turns).
const SCROLL_BOXES = "article div.arithmatex, article pre > code, article .md-typeset__scrollwrap";

function boxName(element) {
  if (element.matches("div.arithmatex")) return "formula, scrolls sideways";
  if (element.matches(".md-typeset__scrollwrap")) return "table, scrolls sideways";
  return null; // a code block: its own name (the editable ones have one)
}

function focusableWhenScrolling(element) {
  const scrolls = element.scrollWidth > element.clientWidth + 1;
  const name = boxName(element);
  if (scrolls && !element.hasAttribute("tabindex")) {
    element.setAttribute("tabindex", "0");
    element.dataset.mynnScrollFocus = "";
    if (name) {
      element.setAttribute("role", "group");
      element.setAttribute("aria-label", name);
    }
  } else if (!scrolls && "mynnScrollFocus" in element.dataset) {
    element.removeAttribute("tabindex");
    delete element.dataset.mynnScrollFocus;
    if (name) {
      element.removeAttribute("role");
      element.removeAttribute("aria-label");
    }
  }
}

const scrollBoxWidths = new ResizeObserver(function (entries) {
  entries.forEach(function (entry) { focusableWhenScrolling(entry.target); });
});

document$.subscribe(function ({ body }) {
  scrollBoxWidths.disconnect();
  body.querySelectorAll(SCROLL_BOXES).forEach(function (element) {
    focusableWhenScrolling(element);
    scrollBoxWidths.observe(element);
  });
});
