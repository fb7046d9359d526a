"""The Dataverse Web API adapter: msal authentication, the client and its OData helpers.

Everything the product sends to Dataverse goes through :class:`client.DataverseClient`;
:mod:`odata` builds every URL and literal, :mod:`batch` the ``$batch`` bodies, :mod:`emails`
the e-mail activities it creates and sends, and :mod:`errors` holds the exception tree.
"""
