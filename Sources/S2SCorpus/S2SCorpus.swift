// S2SCorpus: filled in by its issue.
