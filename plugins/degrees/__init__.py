"""Degrees recorded on people: the degree table, its rows and its reads and writes."""
