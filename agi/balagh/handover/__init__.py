"""What the unit learns of a report: the summary the agent hears, the document its systems get."""
