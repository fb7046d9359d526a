"""Alumni registration: match, decide, write back."""
