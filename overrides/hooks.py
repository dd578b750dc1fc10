"""MkDocs hooks for this site (mkdocs.yml: ``hooks``).

mike builds each version with site_url set to the published address joined with the version
name: ``https://.../mynn/latest``, without the closing slash that mkdocs gives every site_url
it validates itself. mkdocs takes the 404 page's links from that path, so on the 404 page
Material looked for ``/mynn/sitemap.xml``, ``/mynn/search/search_index.json`` and
``/versions.json``, one level too high. Hooks run after plugins: this puts the slash back
after mike has added the version.
"""

from __future__ import annotations


def on_config(config):
    if config.site_url and not config.site_url.endswith("/"):
        config.site_url += "/"
    return config
