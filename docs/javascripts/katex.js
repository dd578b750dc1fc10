// Typeset the math that pymdownx.arithmatex (generic mode) leaves in the page.
//
// Arithmatex wraps inline math as <span class="arithmatex">\( ... \)</span> and
// display math as <div class="arithmatex">\[ ... \]</div>. KaTeX (vendored in
// docs/assets/katex, no CDN) renders exactly those elements, so a stray "$" in
// prose or code is never touched.
//
// Material's `document$` observable fires on the first load and again after
// every instant-navigation page swap, so math on pages reached by clicking a
// link is typeset too. A formula KaTeX cannot parse is reported with
// console.error (the browser test fails on console errors) and its source is
// left visible.
document$.subscribe(function ({ body }) {
  body.querySelectorAll(".arithmatex").forEach(function (element) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: true,
      errorCallback: function (message, error) {
        console.error("KaTeX could not typeset " + element.textContent + ": " + error);
      },
    });
  });
});
