"""Sending text messages through Azure Communication Services SMS (an adapter)."""
