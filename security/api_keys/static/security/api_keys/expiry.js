// Shows the expiry date field only when "On a date" is chosen (the form works without this).
"use strict";
(function () {
  function update() {
    var row = document.querySelector(".field-expires_on");
    var chosen = document.querySelector("input[name=expiry]:checked");
    if (row && chosen) {
      row.hidden = chosen.value !== "date";
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.name === "expiry") {
      update();
    }
  });
  document.addEventListener("DOMContentLoaded", update);
})();
