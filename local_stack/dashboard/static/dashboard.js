// Reload the page's #live region every 2 s (no full reload, so forms keep their input) while enabled, until the
// server marks the region final (a finished orchestration changes no more). A whole reload happens only when an
// instance's status changes, as its action buttons change with it.
// The list's counts per status come from their own request, so the list never waits for a count of the hub.
(async function () {
  const counts = document.querySelector(".counts[data-src]");
  if (!counts) return;
  try {
    const response = await fetch(counts.dataset.src);
    if (response.ok) counts.outerHTML = await response.text();
  } catch (error) {
    counts.textContent = "Counts unavailable: the scheduler did not answer.";
  }
})();

(function () {
  const toggle = document.getElementById("auto-refresh");
  const live = () => document.getElementById("live");
  if (!live() || document.body.dataset.refresh !== "on") {
    if (toggle) toggle.parentElement.hidden = true;
    return;
  }
  let timer = null;
  async function refresh() {
    if (!toggle.checked) return;
    try {
      const response = await fetch(window.location.href, { headers: { "X-Fragment": "live" } });
      // Pages answer HTML even when the scheduler is down (a banner) or the instance is gone: show that too.
      if ((response.headers.get("content-type") || "").startsWith("text/html")) {
        live().outerHTML = await response.text();
        // The action buttons were drawn for the status the page was loaded with: when the actions that apply
        // change (running -> suspended -> finished), load the page again so only those are offered.
        const actions = document.querySelector(".actions[data-actions]");
        if (actions && live() && live().dataset.actions && live().dataset.actions !== actions.dataset.actions) {
          clearInterval(timer);
          window.location.reload();
          return;
        }
        if (live() && live().dataset.final === "1") clearInterval(timer);
      }
    } catch (error) {
      /* the next tick retries; the server shows a banner when the scheduler is down */
    }
  }
  timer = setInterval(refresh, 2000);
})();
