(function () {
  "use strict";
  // `neurodeck preview --serve`: reload when the deck was rebuilt, show its errors when it was not.
  var banner = document.getElementById("pv-live");
  var key = "neurodeck-preview-scroll";
  try {
    var y = sessionStorage.getItem(key);
    if (y !== null) { sessionStorage.removeItem(key); window.scrollTo(0, Number(y)); }
  } catch (e) { /* storage may be disabled */ }
  var version = document.body.getAttribute("data-version");
  var events = new EventSource("/events");
  events.addEventListener("page", function (event) {
    if (event.data === version) { return; }
    try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) { /* storage may be disabled */ }
    window.location.reload();
  });
  events.addEventListener("problems", function (event) {
    banner.textContent = event.data;
    banner.hidden = !event.data;
  });
})();
