// A whole API key pasted into the list's search box is sent as its prefix only, so the secret
// never leaves the browser (the server does the same for a request that arrives without this).
"use strict";
(function () {
  var PASTED_KEY = /^\s*(mcpgw_[a-z0-9]{8})_\S*\s*$/;

  document.addEventListener("submit", function (event) {
    var box = event.target.querySelector && event.target.querySelector("#searchbar");
    if (!box) {
      return;
    }
    var match = PASTED_KEY.exec(box.value);
    if (match) {
      box.value = match[1];
    }
  });
})();
