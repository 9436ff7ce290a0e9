"""Pages (pages.py) and the JSON API (api.py): parse → service → render."""
