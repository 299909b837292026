"""Small server-rendered HTML pages (the invitation link's pages). Every value is escaped with
html.escape; no script, no external asset: the pages' CSP allows inline style and nothing else."""
