"""The HTML pages behind links (html.py) and their texts in de/fr/it/en."""
