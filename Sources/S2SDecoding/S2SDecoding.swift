// S2SDecoding: filled in by its issue.
