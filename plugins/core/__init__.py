"""Cross-cutting pieces shared by every plugin: schema, settings, events, logging."""
