// Carry the chosen framework tab to the same page in another language (and from
// the landing page's language list) as ?framework=..., which sphinx-design
// honours there. The choice comes from the URL or from sphinx-design's storage.
(function () {
  const storageKey = "sphinx-design-tab-id-framework";

  function chosenFramework() {
    const checked = document.querySelector(
      ".sd-tab-set > input:checked + label[data-sync-group='framework']");
    if (checked) return checked.getAttribute("data-sync-id");
    const fromUrl = new URLSearchParams(window.location.search).get("framework");
    if (fromUrl) return fromUrl;
    try {
      return window.localStorage.getItem(storageKey);
    } catch (err) {
      return null;
    }
  }

  function updateLinks() {
    const framework = chosenFramework();
    if (!framework) return;
    document.querySelectorAll("a.d2l-lang-link").forEach(function (link) {
      const url = new URL(link.getAttribute("href"), window.location.href);
      url.searchParams.set("framework", framework);
      link.href = url.toString();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // After sphinx-design's own ready() has applied ?framework= or the stored choice
    window.setTimeout(updateLinks, 0);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches(".sd-tab-set > input")) updateLinks();
  });
})();
