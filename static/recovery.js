// "Copy the codes" for recovery codes shown once: the button (hidden in the page, so
// without JavaScript nobody meets a button that does nothing) copies every code, one a line,
// and says so in the page's language, from its data-copied and data-failed attributes.
// (Loaded as a file: the pages' CSP allows no inline script.)
(function () {
  var button = document.getElementById("copy-codes");
  var list = document.getElementById("recovery-codes");
  var status = document.getElementById("copy-status");
  if (!button || !list) {
    return;
  }
  var codes = Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
    return c.textContent;
  }).join("\n") + "\n";

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  // Without the Clipboard API (a page over plain http on another host), the selection and
  // the older copy command still work in most browsers.
  function copyBySelection() {
    var range = document.createRange();
    range.selectNodeContents(list);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) { /* refused: the codes stay selected for the person to copy */ }
    return ok;
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () { say(button.getAttribute("data-copied")); };
    var failed = function () { say(copyBySelection() ? button.getAttribute("data-copied") : button.getAttribute("data-failed")); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(codes).then(done, failed);
    } else {
      failed();
    }
  });
})();
