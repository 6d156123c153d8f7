// Show/hide for password fields: each <input type="password" data-reveal> gets a button that
// shows what was typed and hides it again. The button's words come from the field's
// data-show and data-hide attributes, in the page's language. Without JavaScript the fields
// stay plain password fields. (Loaded as a file: the pages' CSP allows no inline script.)
(function () {
  var fields = document.querySelectorAll("input[type=password][data-reveal]");
  Array.prototype.forEach.call(fields, function (input) {
    var show = input.getAttribute("data-show") || "Show";
    var hide = input.getAttribute("data-hide") || "Hide";
    var row = document.createElement("span");
    row.className = "reveal-row";
    input.parentNode.insertBefore(row, input);
    row.appendChild(input);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal small";
    button.textContent = show;
    button.setAttribute("aria-controls", input.id);
    button.addEventListener("click", function () {
      var shown = input.type === "text";
      input.type = shown ? "password" : "text";
      button.textContent = shown ? show : hide;
      input.focus();
    });
    row.appendChild(button);
    // Whatever was shown goes as a password field, so the browser's password manager sees it.
    if (input.form) {
      input.form.addEventListener("submit", function () { input.type = "password"; });
    }
  });
})();
