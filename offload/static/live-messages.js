// Live messages: while a conversation is open, ask the server every second for messages
// newer than the last one shown and append them. The server keeps no per-process state
// (it reads the database), so this works under any number of worker processes. Without
// JavaScript the page still works: reload it.
(function () {
  "use strict";
  var list = document.querySelector("[data-live-messages]");
  if (!list || !window.fetch) { return; }
  var url = list.getAttribute("data-live-messages");
  var after = parseInt(list.getAttribute("data-after") || "0", 10);
  var busy = false;

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(url + "?after=" + after, {credentials: "same-origin",
                                    headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {messages: []}; })
      .then(function (data) {
        data.messages.forEach(function (message) {
          if (message.id <= after || document.getElementById("message-" + message.id)) {
            return;
          }
          list.insertAdjacentHTML("beforeend", message.html);
          after = message.id;
        });
        var empty = document.querySelector("[data-empty-messages]");
        if (empty && list.children.length) { empty.remove(); }
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { busy = false; });
  }

  window.setInterval(poll, 1000);
})();
