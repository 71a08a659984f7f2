// The MLflow client prints `<tracker>/#/experiments/<id>/runs/<uuid>` after every run (its own UI's
// route). The fragment never reaches the server, so this script resolves it: it reads the uuid's
// shard of the uuid -> page map (/run-index/<first hex digit>.json) and opens that run's page. Without
// JavaScript, the overview links to /lookup/.
"use strict";

(async () => {
  const match = /^#\/experiments\/[^/]+\/runs\/([0-9a-f]{32})/.exec(location.hash);
  if (!match) return;
  const uuid = match[1];
  const note = document.getElementById("run-link");
  try {
    const response = await fetch(`/run-index/${uuid[0]}.json`);
    const pages = response.ok ? await response.json() : {};
    if (pages[uuid]) return location.replace(pages[uuid]);
  } catch {}
  if (note) {
    note.hidden = false;
    note.querySelector("code").textContent = uuid;
  }
})();
