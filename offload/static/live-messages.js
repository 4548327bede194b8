// Live messages: while a conversation is open, ask the server every second for messages
// newer than the last one shown and append them. The server keeps no per-process state
// (it reads the database), so this works under any number of worker processes. Without
// JavaScript the page still works: reload it.
//
// Read marks: while the page is visible, it tells the server how far the conversation
// has been shown (the "Mark as read" form, posted in the background), so unread counts
// elsewhere drop. Without JavaScript that form is a button.
(function () {
  "use strict";
  var list = document.querySelector("[data-live-messages]");
  if (!list || !window.fetch) { return; }
  var url = list.getAttribute("data-live-messages");
  var after = parseInt(list.getAttribute("data-after") || "0", 10);
  var readForm = document.querySelector("[data-mark-read]");
  var markedUpTo = 0;
  var busy = false;

  function markRead() {
    if (!readForm || document.hidden || after <= markedUpTo) { return; }
    var upTo = after;
    var data = new FormData(readForm);
    data.set("up_to", String(upTo));
    fetch(readForm.action, {method: "POST", body: data, credentials: "same-origin",
                            headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { return; }
        markedUpTo = Math.max(markedUpTo, upTo);
        readForm.querySelector("input[name=up_to]").value = String(markedUpTo);
        readForm.hidden = true;
      })
      .catch(function () { /* the next new message or visit tries again */ });
  }

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
        markRead();
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { busy = false; });
  }

  // only when something is unread: the form is shown then
  if (readForm && readForm.hidden) { markedUpTo = after; }
  markRead();
  document.addEventListener("visibilitychange", markRead);
  window.setInterval(poll, 1000);
})();
