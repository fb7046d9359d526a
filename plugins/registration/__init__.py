"""Alumni registration: match, decide, write back (seed 001)."""
