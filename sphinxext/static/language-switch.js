// Carry the chosen framework tab to the page in another language (and to the
// landing page's language list) as ?framework=..., which sphinx-design honours.
// sphinx-design stores the choice under this key in localStorage.
(function () {
  const key = "sphinx-design-tab-id-framework";
  function chosenFramework() {
    const fromUrl = new URLSearchParams(window.location.search).get("framework");
    if (fromUrl) return fromUrl;
    try {
      return window.localStorage.getItem(key);
    } catch (err) {
      return null;
    }
  }
  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("a.d2l-lang-link");
    if (!link) return;
    const framework = chosenFramework();
    if (!framework) return;
    const url = new URL(link.getAttribute("href"), window.location.href);
    url.searchParams.set("framework", framework);
    link.setAttribute("href", url.toString());
  });
})();
