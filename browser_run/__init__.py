"""Run the site's Python blocks in the reader's browser (Pyodide), served by the site itself.

``gather`` fetches and checks the Pyodide files, ``hook`` is the mkdocs hook that gives every
tested block a Run button and copies the files into the built site, ``runner`` runs one block
(in Pyodide, and under CPython in the tests). README.md beside this file says where every file
comes from and why.
"""
