(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.pv-card"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.pv-subdeck"));
  var search = document.getElementById("pv-search");
  var shown = document.getElementById("pv-shown");
  var none = document.getElementById("pv-none");
  var night = document.getElementById("pv-night");
  var phone = document.getElementById("pv-phone");
  var texts = cards.map(function (card) { return card.getAttribute("data-search"); });

  function filter() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var visible = 0;
    cards.forEach(function (card, i) {
      var match = terms.every(function (term) { return texts[i].indexOf(term) !== -1; });
      card.hidden = !match;
      if (match) { visible += 1; }
    });
    sections.forEach(function (section) {
      var total = Number(section.getAttribute("data-total"));
      var count = section.querySelectorAll("article.pv-card:not([hidden])").length;
      var label = terms.length ? count + " of " + total : String(total);
      section.hidden = count === 0;
      section.querySelector(".pv-n").textContent = label;
      var link = document.querySelector('.pv-toc a[data-section="' + section.id + '"]');
      if (link) {
        link.querySelector(".pv-n").textContent = terms.length ? String(count) : String(total);
        link.classList.toggle("pv-empty", count === 0);
      }
    });
    shown.textContent = visible + " of " + cards.length + " cards";
    none.hidden = visible !== 0;
  }

  function setNight(on, remember) {
    // Anki puts these classes on the card's <body>; the note types' CSS styles .nightMode.
    document.body.classList.toggle("nightMode", on);
    document.body.classList.toggle("night_mode", on);
    night.setAttribute("aria-pressed", on ? "true" : "false");
    night.textContent = on ? "Day mode" : "Night mode";
    if (remember) {
      try { localStorage.setItem("neurodeck-preview-night", on ? "1" : "0"); } catch (e) { /* file: may forbid it */ }
    }
  }

  function setPhone(on, remember) {
    document.body.classList.toggle("pv-phone", on);
    phone.setAttribute("aria-pressed", on ? "true" : "false");
    phone.textContent = on ? "Full width" : "Phone width";
    if (remember) {
      try { localStorage.setItem("neurodeck-preview-phone", on ? "1" : "0"); } catch (e) { /* file: may forbid it */ }
    }
    measureBar();
  }

  function measureBar() {
    // Section links scroll their target just below the sticky search bar.
    var bar = document.querySelector(".pv-bar");
    document.documentElement.style.setProperty("--pv-bar", (bar.offsetHeight + 8) + "px");
  }
  measureBar();
  window.addEventListener("resize", measureBar);
  search.addEventListener("input", filter);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { search.value = ""; filter(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== search &&
        !(document.activeElement && document.activeElement.tagName === "INPUT")) {
      event.preventDefault();
      search.focus();
    }
  });
  night.addEventListener("click", function () {
    setNight(!document.body.classList.contains("nightMode"), true);
  });
  phone.addEventListener("click", function () {
    setPhone(!document.body.classList.contains("pv-phone"), true);
  });
  var stored = null;
  try { stored = localStorage.getItem("neurodeck-preview-phone"); } catch (e) { stored = null; }
  setPhone(stored === "1", false);
  stored = null;
  try { stored = localStorage.getItem("neurodeck-preview-night"); } catch (e) { stored = null; }
  setNight(stored === null ? window.matchMedia("(prefers-color-scheme: dark)").matches : stored === "1", false);
  // Text-to-speech buttons (Anki's {{tts}} tags): the browser's own voice for the language.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.pv-tts") : null;
    if (!button || !window.speechSynthesis) { return; }
    var utterance = new SpeechSynthesisUtterance(button.getAttribute("data-text"));
    utterance.lang = button.getAttribute("data-lang");
    utterance.rate = Number(button.getAttribute("data-speed")) || 1;
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
  });
  if (search.value) { filter(); }  // a value the browser restored
  document.body.setAttribute("data-ready", "true");
})();
