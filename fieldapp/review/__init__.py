"""The collector's review of the log after hours: filters, edits with an audit history,
renumbering, photo replacement, the backlog import and the CSV export."""
