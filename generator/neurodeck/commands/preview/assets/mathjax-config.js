window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]],
        processEscapes: false, processEnvironments: false},
  svg: {fontCache: "local"},
  options: {enableMenu: false},
  startup: {pageReady: function () {
    return MathJax.startup.defaultPageReady().then(function () {
      document.body.setAttribute("data-maths", "typeset");
    });
  }}
};
