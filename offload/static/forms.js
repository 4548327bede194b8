// After a refused submit, take keyboard and screen-reader users to the error summary at
// the top of the form (a focusable div with tabindex=-1), so they hear what went wrong.
// Progressive: without JavaScript the summary is still there, first in the form.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();
