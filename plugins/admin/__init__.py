"""Administration against a real (or sandbox) Dataverse: registering the product's steps.

- :mod:`catalog`: the steps and images the product needs (names from the schema map);
- :mod:`endpoint`: how events reach the Function App (webhook or Service Bus queue);
- :mod:`registered`: what the product has registered now (read through the Web API);
- :mod:`planning` / :mod:`plan`: what to create, update, delete or leave (pure);
- :mod:`steps`: plan, apply (one change set), register, unregister;
- :mod:`status`: what is registered and enabled, against the catalog;
- :mod:`connection`, :mod:`errors`, :mod:`commands`: the command line and its one-line errors.

The demo and tests call :func:`steps.register`, :func:`steps.plan_registration`,
:func:`steps.apply`, :func:`steps.unregister` and :func:`status.status` directly.
"""
