// S2SSubword: filled in by its issue.
