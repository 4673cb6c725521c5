// Reload the page's #live region every 2 s (no full reload, so forms keep their input) while enabled.
(function () {
  const live = document.getElementById("live");
  const toggle = document.getElementById("auto-refresh");
  if (!live || document.body.dataset.refresh !== "on") {
    if (toggle) toggle.parentElement.hidden = true;
    return;
  }
  async function refresh() {
    if (!toggle.checked) return;
    try {
      const response = await fetch(window.location.href, { headers: { "X-Fragment": "live" } });
      if (response.ok) {
        document.getElementById("live").outerHTML = await response.text();
      }
    } catch (error) {
      /* the next tick retries; the server shows a banner when the scheduler is down */
    }
  }
  setInterval(refresh, 2000);
})();
