"""The collector's review after hours: the log, the encounter page and its fixes (details,
number, printed ticket, photo, consent correction, each kept in the edit history), the CSV."""
