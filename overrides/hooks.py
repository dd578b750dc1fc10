"""MkDocs hooks for this site (mkdocs.yml: ``hooks``).

mike builds each version with site_url set to the published address joined with the version
name: ``https://.../mynn/latest``, without the closing slash that mkdocs gives every site_url
it validates itself. mkdocs takes the 404 page's links from that path, so on the 404 page
Material looked for ``/mynn/sitemap.xml``, ``/mynn/search/search_index.json`` and
``/versions.json``, one level too high. Hooks run after plugins: this puts the slash back
after mike has added the version.

pymdownx.snippets reads ``base_path`` relative to the working directory. mkdocs.yml gives
it ``[.]`` (no ``!relative`` tag, which Zensical rejects), and this joins each relative entry
to the folder of mkdocs.yml, so that ``mkdocs build -f path/to/mkdocs.yml`` works from any
directory.
"""

from __future__ import annotations

from pathlib import Path


def on_config(config):
    if config.site_url and not config.site_url.endswith("/"):
        config.site_url += "/"
    snippets = config.mdx_configs.get("pymdownx.snippets")
    if snippets is not None:
        root = Path(config.config_file_path).resolve().parent
        paths = snippets.get("base_path", ["."])
        paths = [paths] if isinstance(paths, str) else paths
        snippets["base_path"] = [str(root / path) for path in paths]
    return config
