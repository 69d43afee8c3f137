// The copy button of the one-time API key page (no inline script: the CSP is script-src 'self').
"use strict";
(function () {
  function say(button, text) {
    var status = button.parentElement.querySelector(".api-key-copy-status");
    if (status) {
      status.textContent = text;
    }
  }

  function copyBySelection(field) {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) {
      return;
    }
    var fallback = function () {
      say(button, copyBySelection(field)
        ? "Copied."
        : "Could not copy: select the key and copy it by hand.");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () {
        say(button, "Copied.");
      }, fallback);
    } else {
      fallback();
    }
  });

  // Selecting the whole key on focus makes copying by hand one keystroke.
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("api-key-value")) {
      event.target.select();
    }
  });
})();
