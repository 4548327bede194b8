// Sign-up: tell the server the browser's time zone, so pages and e-mails show times in
// it from the first one. Progressive: without JavaScript the hidden field stays "UTC",
// and the member picks their zone in the settings.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll("input[data-browser-time-zone]").forEach(function (input) {
    input.value = zone;
  });
})();
