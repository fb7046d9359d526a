"""Dues: membership types, memberships from approvals and applications, invoices with bank
payment references, payments from the bank's file or a provider's webhook, and reminders."""
